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
    var pin = e.target.closest("[data-pin]");
    if (pin) {
      var rect = pin.getBoundingClientRect();
      var form = document.getElementById("comment-form");
      if (!form) return;
      form.elements["region_x"].value = ((e.clientX - rect.left) / rect.width).toFixed(4);
      form.elements["region_y"].value = ((e.clientY - rect.top) / rect.height).toFixed(4);
    }
    var seek = e.target.closest("[data-seek]");
    if (seek) {
      var player = document.querySelector("video, audio");
      if (player) { player.currentTime = parseFloat(seek.getAttribute("data-seek")); player.play(); }
    }
    var now = e.target.closest("[data-timecode-now]");
    if (now) {
      var media = document.querySelector("video, audio");
      var field = document.getElementById("t_start");
      if (media && field) field.value = media.currentTime.toFixed(2);
    }
  });
})();
