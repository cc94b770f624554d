// The review player: frame stepping and SMPTE time code at the file's own frame rate, comment
// markers on the timeline, and pins and boxes drawn on the picture itself. Marks are stored in
// fractions of the picture (not of the letterboxed viewer), so they land on the same spot at
// any window size. Time code arithmetic mirrors app/reviews/timecode.py.
(function () {
  "use strict";
  var EPSILON = 1e-6;

  // ---- time code ------------------------------------------------------------------------
  function Rate(num, den) { this.num = num; this.den = den; this.fps = Math.round(num / den); }
  Rate.prototype.dropFrame = function () { return this.den === 1001 && (this.num === 30000 || this.num === 60000); };
  Rate.prototype.frameAt = function (seconds) { return Math.max(0, Math.floor(seconds * this.num / this.den + EPSILON)); };
  // the middle of a frame: a seek there shows that frame, whatever the rounding of the decoder
  Rate.prototype.seekTime = function (frame) { return (frame + 0.5) * this.den / this.num; };
  Rate.prototype.smpte = function (frame) {
    var fps = this.fps, sep = ":";
    if (this.dropFrame()) {
      var drop = Math.floor(fps / 15), perTen = Math.round(this.num * 600 / this.den), perMinute = fps * 60 - drop;
      var tens = Math.floor(frame / perTen), rest = frame % perTen;
      frame += 9 * drop * tens + (rest > drop ? drop * Math.floor((rest - drop) / perMinute) : 0);
      sep = ";";
    }
    function two(n) { return (n < 10 ? "0" : "") + n; }
    var h = Math.floor(frame / (fps * 3600)), m = Math.floor(frame / (fps * 60)) % 60;
    var s = Math.floor(frame / fps) % 60, f = frame % fps;
    return two(h) + ":" + two(m) + ":" + two(s) + sep + two(f);
  };

  function clamp(v, lo, hi) { return Math.min(hi, Math.max(lo, v)); }
  function pct(v) { return (v * 100).toFixed(3) + "%"; }

  function setup(player) {
    var media = player.querySelector("[data-media]");
    var stage = player.querySelector("[data-stage]");
    var overlay = player.querySelector("[data-overlay]");
    var status = player.querySelector("[data-annotate-status]");
    var isVideo = media.tagName === "VIDEO";
    var rate = player.dataset.rateNum ? new Rate(+player.dataset.rateNum, +player.dataset.rateDen) : null;
    var form = document.getElementById("comment-form");
    var draft = null; // {x, y, w, h} in fractions of the picture, w/h null for a pin

    // ---- the overlay covers exactly the picture inside its letterbox ----------------------
    function natural() {
      return isVideo ? [media.videoWidth, media.videoHeight] : [media.naturalWidth, media.naturalHeight];
    }
    function place() {
      var size = natural();
      if (!size[0] || !size[1]) return;
      var w = media.clientWidth, h = media.clientHeight, scale = Math.min(w / size[0], h / size[1]);
      var cw = size[0] * scale, ch = size[1] * scale;
      overlay.style.left = media.offsetLeft + (w - cw) / 2 + "px";
      overlay.style.top = media.offsetTop + (h - ch) / 2 + "px";
      overlay.style.width = cw + "px";
      overlay.style.height = ch + "px";
      overlay.hidden = false;
    }
    media.addEventListener(isVideo ? "loadedmetadata" : "load", place);
    if (window.ResizeObserver) new ResizeObserver(place).observe(media);
    window.addEventListener("resize", place);
    if (!isVideo && media.complete) place();
    if (isVideo && media.readyState >= 1) place();

    // ---- marks of the comments, rebuilt whenever the review panel is refreshed -------------
    function comments() { return Array.prototype.slice.call(document.querySelectorAll("#comments [data-comment]")); }
    function currentFrame() { return rate && isVideo ? rate.frameAt(media.currentTime) : null; }
    function showsAt(el) {
      if (!isVideo || el.dataset.t === undefined) return true;
      if (!media.paused) return false;
      var t = +el.dataset.t, end = el.dataset.tEnd !== undefined ? +el.dataset.tEnd : null;
      if (rate) {
        var now = currentFrame(), first = rate.frameAt(t), last = end === null ? first : rate.frameAt(end);
        return now >= first && now <= last;
      }
      return Math.abs(media.currentTime - t) < 0.05 || (end !== null && media.currentTime >= t && media.currentTime <= end);
    }
    function markOf(x, y, w, h, cls) {
      var mark = document.createElement("span");
      mark.className = "mark " + (w === null ? "pin" : "box") + (cls ? " " + cls : "");
      mark.style.left = pct(x);
      mark.style.top = pct(y);
      if (w !== null) { mark.style.width = pct(w); mark.style.height = pct(h); }
      return mark;
    }
    function num(v) { return v === undefined || v === "" ? null : +v; }
    function drawMarks() {
      Array.prototype.forEach.call(overlay.querySelectorAll(".mark:not(.draft)"), function (m) { m.remove(); });
      comments().forEach(function (el) {
        if (el.dataset.x === undefined || !showsAt(el)) return;
        var mark = markOf(+el.dataset.x, +el.dataset.y, num(el.dataset.w), num(el.dataset.h));
        mark.dataset.commentId = el.dataset.comment;
        mark.title = el.dataset.summary || "";
        if (el.classList.contains("active")) mark.classList.add("active");
        overlay.appendChild(mark);
      });
      drawTimeline();
    }

    // ---- the draft mark of the comment being written ------------------------------------------
    function writeDraft() {
      var old = overlay.querySelector(".mark.draft");
      if (old) old.remove();
      var fields = form ? form.elements : null;
      var values = draft ? [draft.x, draft.y, draft.w, draft.h] : [null, null, null, null];
      ["region_x", "region_y", "region_w", "region_h"].forEach(function (name, i) {
        if (fields && fields[name]) fields[name].value = values[i] === null ? "" : values[i].toFixed(4);
      });
      var clear = player.querySelector("[data-clear-mark]");
      if (clear) clear.hidden = !draft;
      if (!draft) { say(""); return; }
      overlay.appendChild(markOf(draft.x, draft.y, draft.w, draft.h, "draft"));
      var where = Math.round(draft.x * 100) + " % across, " + Math.round(draft.y * 100) + " % down";
      say(draft.w === null ? "Pin at " + where + "." : "Box from " + where + ", " + Math.round(draft.w * 100) +
          " % wide, " + Math.round(draft.h * 100) + " % high.");
      if (isVideo && rate && form && form.elements.t_start) form.elements.t_start.value = rate.smpte(currentFrame());
    }
    function say(text) { if (status) status.textContent = text; }

    function fraction(event) {
      var r = overlay.getBoundingClientRect();
      return { x: clamp((event.clientX - r.left) / r.width, 0, 1), y: clamp((event.clientY - r.top) / r.height, 0, 1) };
    }
    var start = null;
    overlay.addEventListener("pointerdown", function (event) {
      if (!form || event.button !== 0) return;
      if (isVideo) media.pause();
      start = fraction(event);
      overlay.setPointerCapture(event.pointerId);
      draft = { x: start.x, y: start.y, w: null, h: null };
      writeDraft();
      event.preventDefault();
    });
    overlay.addEventListener("pointermove", function (event) {
      if (!start) return;
      var p = fraction(event), r = overlay.getBoundingClientRect();
      // a few pixels of jitter is still a click: a pin, not a box
      if (Math.abs(p.x - start.x) * r.width < 4 && Math.abs(p.y - start.y) * r.height < 4) return;
      draft = { x: Math.min(start.x, p.x), y: Math.min(start.y, p.y), w: Math.abs(p.x - start.x), h: Math.abs(p.y - start.y) };
      writeDraft();
    });
    overlay.addEventListener("pointerup", function () { start = null; });
    // the letterbox bars are not the picture: a mark there would mean nothing
    stage.addEventListener("pointerdown", function (event) {
      if (form && !overlay.contains(event.target)) say("That is outside the picture: click on the picture itself.");
    });
    overlay.addEventListener("keydown", function (event) {
      if (!form) return;
      var step = event.altKey ? 0.1 : 0.01, key = event.key;
      if (key === "Enter" || key === " ") {
        if (!draft) { if (isVideo) media.pause(); draft = { x: 0.5, y: 0.5, w: null, h: null }; writeDraft(); }
        else if (form.elements.body) form.elements.body.focus();
        event.preventDefault();
        return;
      }
      if (key === "Escape" || key === "Delete" || key === "Backspace") { draft = null; writeDraft(); event.preventDefault(); return; }
      var dx = key === "ArrowRight" ? step : key === "ArrowLeft" ? -step : 0;
      var dy = key === "ArrowDown" ? step : key === "ArrowUp" ? -step : 0;
      if (!dx && !dy) return;
      event.preventDefault();
      if (!draft) draft = { x: 0.5, y: 0.5, w: null, h: null };
      if (event.shiftKey) { // Shift: size a box from the pin
        var w = clamp((draft.w || 0) + dx, 0, 1 - draft.x), h = clamp((draft.h || 0) + dy, 0, 1 - draft.y);
        draft.w = w; draft.h = h;
        if (!w && !h) { draft.w = draft.h = null; }
      } else {
        draft.x = clamp(draft.x + dx, 0, 1 - (draft.w || 0));
        draft.y = clamp(draft.y + dy, 0, 1 - (draft.h || 0));
      }
      writeDraft();
    });
    var clear = player.querySelector("[data-clear-mark]");
    if (clear) clear.addEventListener("click", function () { draft = null; writeDraft(); });

    // ---- transport (videos) ----------------------------------------------------------------
    var scrub = player.querySelector("[data-scrub]");
    var readout = player.querySelector("[data-timecode]");
    var playButton = player.querySelector("[data-play]");
    var timeline = player.querySelector("[data-timeline]");
    function duration() { return isFinite(media.duration) && media.duration > 0 ? media.duration : +player.dataset.duration || 0; }
    function show() {
      if (!isVideo) return;
      var frame = currentFrame();
      if (readout) readout.textContent = rate ? rate.smpte(frame) : media.currentTime.toFixed(3) + " s";
      if (scrub && document.activeElement !== scrub) scrub.value = rate ? frame : media.currentTime;
      if (playButton) {
        playButton.textContent = media.paused ? "Play" : "Pause";
        playButton.setAttribute("aria-pressed", String(!media.paused));
      }
      drawMarks();
    }
    function seekFrame(frame) {
      media.pause();
      if (rate) {
        var last = Math.max(0, rate.frameAt(duration()) - 1);
        media.currentTime = rate.seekTime(clamp(frame, 0, last));
      } else {
        media.currentTime = clamp(frame, 0, duration());
      }
    }
    function step(frames) {
      if (rate) seekFrame(currentFrame() + frames);
      else { media.pause(); media.currentTime = clamp(media.currentTime + frames / 25, 0, duration()); }
    }
    function seekSeconds(t) {
      if (rate) seekFrame(rate.frameAt(t)); else { media.pause(); media.currentTime = t; }
    }
    function drawTimeline() {
      if (!timeline) return;
      var d = duration();
      timeline.innerHTML = "";
      if (!d) return;
      comments().forEach(function (el) {
        if (el.dataset.t === undefined || el.dataset.reply !== undefined) return;
        var marker = document.createElement("button");
        marker.type = "button";
        marker.className = "marker";
        marker.style.left = pct(clamp(+el.dataset.t / d, 0, 1));
        marker.setAttribute("aria-label", "Go to comment: " + (el.dataset.summary || ""));
        marker.title = el.dataset.summary || "";
        marker.addEventListener("click", function () { focusComment(el); });
        timeline.appendChild(marker);
      });
    }
    if (isVideo) {
      ["timeupdate", "seeked", "play", "pause", "loadedmetadata"].forEach(function (name) { media.addEventListener(name, show); });
      var sized = function () {
        if (!scrub) return;
        scrub.max = rate ? Math.max(0, rate.frameAt(duration()) - 1) : duration();
        scrub.step = rate ? 1 : "any";
      };
      media.addEventListener("loadedmetadata", sized);
      if (media.readyState >= 1) sized();
      if (scrub) scrub.addEventListener("input", function () { rate ? seekFrame(+scrub.value) : seekSeconds(+scrub.value); });
      if (playButton) playButton.addEventListener("click", function () { media.paused ? media.play() : media.pause(); });
      Array.prototype.forEach.call(player.querySelectorAll("[data-step]"), function (b) {
        b.addEventListener("click", function () { step(+b.dataset.step); });
      });
      var now = document.querySelector("[data-timecode-now]");
      if (now) now.addEventListener("click", function () {
        form.elements.t_start.value = rate ? rate.smpte(currentFrame()) : media.currentTime.toFixed(3);
      });
      // the signed view link expires: on a refused seek, ask for a fresh one and carry on
      media.addEventListener("error", function () {
        var links = player.dataset.links, at = media.currentTime;
        if (!links || player.dataset.renewed === "1") return;
        player.dataset.renewed = "1";
        fetch(links, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (l) {
          if (!l.view_url) return;
          media.src = l.view_url;
          media.addEventListener("loadedmetadata", function once() {
            media.removeEventListener("loadedmetadata", once);
            media.currentTime = at;
            player.dataset.renewed = "0";
          });
        });
      });
      document.addEventListener("keydown", function (event) {
        var t = event.target;
        if (t.closest && t.closest("input, textarea, select, [contenteditable], [data-overlay]")) return;
        if (event.key === "," || event.key === ".") { step(event.key === "," ? -1 : 1); event.preventDefault(); }
        // Space on a button presses that button
        else if (event.key === "k" || (event.key === " " && !t.closest("button, a, summary"))) {
          media.paused ? media.play() : media.pause();
          event.preventDefault();
        }
      });
    }

    // ---- a comment's time code seeks to its frame and shows its mark ---------------------------
    function focusComment(el) {
      comments().forEach(function (c) { c.classList.toggle("active", c === el); });
      if (isVideo && el.dataset.t !== undefined) seekSeconds(+el.dataset.t);
      drawMarks();
      el.scrollIntoView({ block: "nearest" });
    }
    document.addEventListener("click", function (event) {
      var seek = event.target.closest("[data-seek]");
      if (seek) focusComment(seek.closest("[data-comment]"));
    });
    document.body.addEventListener("htmx:afterSwap", drawMarks);
    drawMarks();
    show();
  }

  function start() { Array.prototype.forEach.call(document.querySelectorAll("[data-player]"), setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  window.EyeShotsTimecode = Rate; // the browser test checks the arithmetic against the server's
})();
