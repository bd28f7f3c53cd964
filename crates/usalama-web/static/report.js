// Usalama report form: optional help on top of a form that works without JavaScript.
// - "Use my phone's position" fills latitude and longitude (Geolocation API).
// - Place names are suggested from /api/v1/places as the monitor types.
// - The answers are kept on this device (localStorage) until the report is sent; a report
//   sent while offline waits there and is sent when the connection comes back.
// No inline script, nothing fetched from elsewhere: it runs under the site's CSP.
(function () {
  "use strict";
  var KEY = "usalama-report-draft";
  var store = null;
  try { store = window.localStorage; } catch (e) { store = null; }

  function load() {
    if (!store) return null;
    try { return JSON.parse(store.getItem(KEY) || "null"); } catch (e) { return null; }
  }
  function save(d) { if (store) { try { store.setItem(KEY, JSON.stringify(d)); } catch (e) {} } }
  function clear() { if (store) { try { store.removeItem(KEY); } catch (e) {} } }

  // The page after a successful send: forget the draft.
  if (document.getElementById("report-done")) { clear(); return; }

  var form = document.getElementById("report-form");
  if (!form) return;
  var status = document.getElementById("report-status");
  function say(text) { if (status) { status.textContent = text; status.hidden = false; } }

  function fields() {
    var out = {};
    for (var i = 0; i < form.elements.length; i++) {
      var el = form.elements[i];
      if (!el.name || el.name === "csrf" || el.type === "submit" || el.type === "button") continue;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) continue;
      out[el.name] = el.value;
    }
    return out;
  }
  function fill(values) {
    for (var name in values) {
      if (!Object.prototype.hasOwnProperty.call(values, name)) continue;
      var el = form.elements[name];
      if (el && el.type === "checkbox") el.checked = true;
      else if (el && el.type !== "hidden" && typeof el.value === "string") el.value = values[name];
      else if (el && name === "nonce") el.value = values[name];
    }
  }

  // The server answered (errors or a question about the place): it shows the answers.
  var state = form.getAttribute("data-state");
  var draft = load();
  if (state !== "new") {
    if (draft) { draft.pending = false; save(draft); }
  } else if (draft && draft.values) {
    fill(draft.values);
    if (draft.pending && navigator.onLine) {
      say(form.getAttribute("data-msg-sending"));
      draft.pending = false;
      save(draft);
      form.submit();
      return;
    }
    say(form.getAttribute("data-msg-restored"));
  }

  var timer = null;
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { save({ values: fields(), pending: false }); }, 300);
  });

  form.addEventListener("submit", function (ev) {
    if (navigator.onLine === false) {
      ev.preventDefault();
      save({ values: fields(), pending: true });
      say(form.getAttribute("data-msg-saved"));
    } else {
      save({ values: fields(), pending: false });
    }
  });

  window.addEventListener("online", function () {
    var d = load();
    if (d && d.pending) {
      say(form.getAttribute("data-msg-sending"));
      d.pending = false;
      save(d);
      form.submit();
    }
  });

  // The phone's position.
  var button = document.getElementById("use-position");
  var lat = form.elements["latitude"];
  var lon = form.elements["longitude"];
  if (button && lat && lon && navigator.geolocation) {
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (p) {
        lat.value = p.coords.latitude.toFixed(5);
        lon.value = p.coords.longitude.toFixed(5);
        save({ values: fields(), pending: false });
      }, function () {
        say(form.getAttribute("data-msg-position"));
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
    });
  }

  // Place suggestions.
  var place = form.elements["place"];
  var code = document.getElementById("f-place_code");
  var list = document.getElementById("place-list");
  if (place && place.type === "text" && list && window.fetch) {
    var found = [];
    var asked = "";
    var wait = null;
    place.addEventListener("input", function () {
      if (code) {
        var pick = null;
        for (var i = 0; i < found.length; i++) if (found[i].label === place.value) pick = found[i];
        code.value = pick ? pick.code : "";
        if (pick) place.value = pick.name;
      }
      var q = place.value.trim();
      clearTimeout(wait);
      if (q.length < 2 || q === asked) return;
      wait = setTimeout(function () {
        asked = q;
        fetch("/api/v1/places?limit=8&q=" + encodeURIComponent(q), { credentials: "omit" })
          .then(function (r) { return r.ok ? r.json() : { items: [] }; })
          .then(function (j) {
            found = (j.items || []).map(function (it) {
              var within = it.within && it.within.length ? " – " + it.within.join(", ") : "";
              return { code: it.code, name: it.name, label: it.name + within };
            });
            while (list.firstChild) list.removeChild(list.firstChild);
            found.forEach(function (f) {
              var o = document.createElement("option");
              o.value = f.label;
              list.appendChild(o);
            });
          })
          .catch(function () {});
      }, 250);
    });
  }
})();
