/* global document, EventSource, fetch */
// The home page, live: the radio's line follows the kiosk's events, and the rows are fetched again when a sync ends.
// A background fetch does not count as staff activity, so an unattended screen still logs out when idle.
(function () {
  "use strict";
  var now = document.getElementById("now");
  var rows = document.getElementById("rows");
  if (!now || !rows || typeof EventSource === "undefined") return;
  var source = new EventSource("/events");
  function mark(token) {
    var items = rows.querySelectorAll("[data-token]");
    for (var i = 0; i < items.length; i++) {
      var busy = items[i].getAttribute("data-token") === token;
      items[i].querySelector(".syncing").hidden = !busy;
    }
  }
  source.addEventListener("radio", function (ev) {
    var m = JSON.parse(ev.data);
    now.textContent = m.text;
    if (m.token) mark(m.token);
  });
  source.addEventListener("synced", function (ev) {
    var m = JSON.parse(ev.data);
    now.textContent = m.text;
    fetch("/rows", { headers: { "x-dashboard-background": "1" }, credentials: "same-origin" }).then(function (r) {
      if (r.status === 401) return document.location.assign("/login?expired=1");
      return r.text().then(function (html) {
        rows.innerHTML = html;
      });
    });
  });
  source.onerror = function () {
    now.textContent = "Live updates paused: reconnecting…";
  };
})();
