// Adds the reader's local time after each UTC time, unless the reader is
// on UTC. The page reads fine without it: times are in UTC with their age.
(function () {
  var fmt;
  try {
    fmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
  } catch (e) { return; }
  document.querySelectorAll("time[data-local]").forEach(function (t) {
    var d = new Date(t.getAttribute("datetime"));
    if (isNaN(d.getTime()) || d.getTimezoneOffset() === 0) return;
    var s = document.createElement("span");
    s.className = "local";
    s.textContent = " · " + fmt.format(d) + " your time";
    t.parentNode.insertBefore(s, t.nextSibling);
  });
})();
