// Live updates: one EventSource per page; each event asks htmx to refresh the live regions,
// which re-fetch their HTML through the normal, permission-checked GET routes.
(function () {
  function start() {
    var root = document.querySelector("[data-live]");
    if (!root || !window.EventSource) return;
    var source = new EventSource(root.getAttribute("data-live"));
    source.onmessage = function (message) {
      var event = JSON.parse(message.data);
      document.body.setAttribute("data-last-event", String(event.id));
      htmx.trigger(document.body, "live", event);
      var toast = document.getElementById("toast");
      if (toast) {
        toast.textContent = "Updated: " + event.kind.replace(".", " ");
        toast.hidden = false;
      }
    };
  }
  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("click", function (e) {
    var toggle = e.target.closest("[data-toggle-nav]");
    if (toggle) document.body.classList.toggle("nav-open");
  });
})();
