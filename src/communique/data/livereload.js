// communique serve: reload this page when the site is rebuilt. Only `serve` injects this file.
(function () {
  "use strict";
  var script = document.currentScript;
  var version = script ? script.getAttribute("data-version") : null;
  if (!window.EventSource) { return; }
  var source = new EventSource("/__communique/events");
  source.onmessage = function (event) {
    if (version !== null && event.data !== version) {
      source.close();
      window.location.reload();
    }
  };
})();
