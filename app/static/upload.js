// Resumable uploads to the file service: a small tus 1.0 client (creation, core, termination).
// The app hands out a short-lived token (POST data-link); the body goes in chunks by PATCH, and
// after a dropped connection or a pause the upload continues from the server's offset (HEAD).
// The upload URL is kept in localStorage, so a reload resumes the same file too.
(function () {
  var TUS = "1.0.0";

  function b64(text) {
    return btoa(unescape(encodeURIComponent(text)));
  }

  function request(method, url, token, headers, body, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("Tus-Resumable", TUS);
      xhr.setRequestHeader("Authorization", "Bearer " + token);
      Object.keys(headers).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      if (onProgress) xhr.upload.onprogress = function (e) { onProgress(e.loaded); };
      xhr.onload = function () { resolve(xhr); };
      xhr.onerror = function () { reject(new Error("network")); };
      xhr.onabort = function () { reject(new Error("paused")); };
      xhr.send(body);
      request.current = xhr;
    });
  }

  function Uploader(root) {
    this.root = root;
    this.input = root.querySelector("input[type=file]");
    this.bar = root.querySelector("progress");
    this.status = root.querySelector("[data-tus-status]");
    this.pauseButton = root.querySelector("[data-tus-pause]");
    this.paused = false;
  }

  Uploader.prototype.say = function (text) { this.status.textContent = text; };

  Uploader.prototype.show = function (done) {
    var percent = this.file.size ? Math.floor((done * 100) / this.file.size) : 100;
    this.bar.value = percent;
    this.say("Uploading… " + percent + "%");
  };

  Uploader.prototype.token = function () {
    var csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"];
    return fetch(this.root.getAttribute("data-link"), {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf || "" },
    }).then(function (r) {
      if (!r.ok) throw new Error("You may not upload here (" + r.status + ")");
      return r.json();
    });
  };

  Uploader.prototype.start = function () {
    var self = this;
    self.file = self.input.files[0];
    if (!self.file) { self.say("Choose a file first."); return; }
    self.paused = false;
    self.pauseButton.hidden = false;
    self.key = "tus:" + self.root.getAttribute("data-link") + ":" + self.file.name + ":" +
      self.file.size + ":" + self.file.lastModified;
    self.token().then(function (link) {
      self.link = link;
      var known = localStorage.getItem(self.key);
      return known ? self.offset(known).catch(function () { return self.create(); }) : self.create();
    }).then(function () { return self.send(); }).catch(function (e) { self.fail(e); });
  };

  Uploader.prototype.create = function () {
    var self = this;
    return request("POST", self.link.tus_url, self.link.token, {
      "Upload-Length": String(self.file.size), "Upload-Metadata": "filename " + b64(self.file.name),
    }, null).then(function (xhr) {
      if (xhr.status !== 201) throw new Error(self.detail(xhr));
      self.location = xhr.getResponseHeader("Location");
      localStorage.setItem(self.key, self.location);
      self.at = 0;
    });
  };

  Uploader.prototype.offset = function (location) {
    var self = this;
    return request("HEAD", location, self.link.token, {}, null).then(function (xhr) {
      if (xhr.status !== 200) throw new Error("gone");
      self.location = location;
      self.at = parseInt(xhr.getResponseHeader("Upload-Offset"), 10);
      self.show(self.at);
    });
  };

  Uploader.prototype.detail = function (xhr) {
    try { return JSON.parse(xhr.responseText).detail; } catch (e) { return "Upload failed (" + xhr.status + ")"; }
  };

  Uploader.prototype.send = function () {
    var self = this;
    var chunk = parseInt(self.root.getAttribute("data-chunk"), 10) || 8388608;
    if (self.at >= self.file.size && self.file.size > 0) return Promise.resolve();
    var end = Math.min(self.at + chunk, self.file.size);
    var start = self.at;
    return request("PATCH", self.location, self.link.token, {
      "Upload-Offset": String(start), "Content-Type": "application/offset+octet-stream",
    }, self.file.slice(start, end), function (loaded) { self.show(start + loaded); })
      .then(function (xhr) {
        if (xhr.status !== 204) throw new Error(self.detail(xhr));
        self.at = parseInt(xhr.getResponseHeader("Upload-Offset"), 10);
        self.show(self.at);
        var version = xhr.getResponseHeader("Upload-Version-Id");
        if (version) return self.finish();
        return self.send();
      });
  };

  Uploader.prototype.finish = function () {
    localStorage.removeItem(this.key);
    this.pauseButton.hidden = true;
    this.bar.value = 100;
    this.say("Upload complete. Reloading…");
    window.location.reload();
  };

  Uploader.prototype.fail = function (error) {
    var self = this;
    if (error.message === "paused") { self.say("Paused at " + self.bar.value + "%"); return; }
    if (error.message === "network" && self.location && !self.paused) {
      // the connection dropped: ask the server where it stands and go on from there
      self.say("Connection lost at " + self.bar.value + "%, resuming…");
      setTimeout(function () {
        self.offset(self.location).then(function () { return self.send(); })
          .catch(function (e) { self.fail(e); });
      }, 1000);
      return;
    }
    self.pauseButton.hidden = true;
    self.say(error.message);
  };

  Uploader.prototype.togglePause = function () {
    var self = this;
    if (!self.paused) {
      self.paused = true;
      self.pauseButton.textContent = "Resume";
      if (request.current) request.current.abort();
      return;
    }
    self.paused = false;
    self.pauseButton.textContent = "Pause";
    self.offset(self.location).then(function () { return self.send(); })
      .catch(function (e) { self.fail(e); });
  };

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-tus]");
    if (!root) return;
    var uploader = new Uploader(root);
    root.querySelector("[data-tus-start]").addEventListener("click", function () { uploader.start(); });
    uploader.pauseButton.addEventListener("click", function () { uploader.togglePause(); });
  });
})();
