// Live updates: one EventSource per page; each event asks htmx to refresh the live regions,
// which re-fetch their HTML through the normal, permission-checked GET routes.
(function () {
  var TOAST_SECONDS = 4;
  var toastTimer = null;

  function toast(text) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, TOAST_SECONDS * 1000);
  }

  function start() {
    var root = document.querySelector("[data-live]");
    if (!root || !window.EventSource) return;
    var source = new EventSource(root.getAttribute("data-live"));
    source.onmessage = function (message) {
      var event = JSON.parse(message.data);
      document.body.setAttribute("data-last-event", String(event.id));
      htmx.trigger(document.body, "live", event);
      toast("Updated: " + event.kind.replace(".", " "));
    };
  }

  // the phone navigation: a button opens it; its close button, a tap beside it, Escape or
  // following a link closes it, and focus goes back to where it was
  function setNav(open) {
    var toggle = document.querySelector("[data-toggle-nav]");
    var scrim = document.querySelector(".scrim");
    document.body.classList.toggle("nav-open", open);
    if (scrim) scrim.hidden = !open;
    if (toggle) toggle.setAttribute("aria-expanded", String(open));
    if (open) {
      var first = document.querySelector("#side-nav [data-close-nav]");
      if (first) first.focus();
    } else if (toggle && document.body.contains(toggle)) {
      toggle.focus({ preventScroll: true });
    }
  }

  // dates arrive in UTC; show them in the viewer's own time zone, named
  var localFormat = window.Intl ? new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
  }) : null;
  function localTimes(root) {
    if (!localFormat) return;
    Array.prototype.forEach.call((root || document).querySelectorAll("time[data-local]"), function (t) {
      var at = new Date(t.getAttribute("datetime"));
      if (isNaN(at)) return;
      t.title = t.textContent; // the UTC original, on hover
      t.textContent = localFormat.format(at);
      t.removeAttribute("data-local");
    });
  }

  document.addEventListener("DOMContentLoaded", function () { localTimes(); start(); });
  document.addEventListener("htmx:afterSwap", function (e) { localTimes(e.target); });
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-toggle-nav]")) setNav(!document.body.classList.contains("nav-open"));
    else if (e.target.closest("[data-close-nav]") && document.body.classList.contains("nav-open")) setNav(false);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && document.body.classList.contains("nav-open")) setNav(false);
  });
})();
