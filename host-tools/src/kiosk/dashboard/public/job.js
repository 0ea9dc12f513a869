/* global document, EventSource */
// A diagnosis's page: its state follows the kiosk's events for this job only.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || typeof EventSource === "undefined") return;
  var id = box.getAttribute("data-job");
  var text = box.querySelector(".job-text");
  if (box.className.indexOf("state-done") >= 0) return;
  var source = new EventSource("/events");
  source.addEventListener("job", function (ev) {
    var m = JSON.parse(ev.data);
    if (m.id !== id) return;
    text.textContent = m.text;
    box.className = "job state-" + m.state.replace(/[^a-z-]/g, "-");
    if (m.state.indexOf("done") === 0) source.close();
  });
})();
