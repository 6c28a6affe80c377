/* 实时数字 — numbers of stock update in place when another terminal changes them.
 *
 * Any element with data-live-product (and optionally data-live-warehouse, data-live-location (code),
 * data-live-location_id, data-live-lot (number), data-live-lot_id, data-live-status) shows the sum of
 * the on-hand buckets matching those keys (in the child matched by data-live-in, when it has one).
 * live.js keeps one WebSocket to /api/v1/ws (the session cookie authenticates it), and on a
 * stock.posted event for a product shown here fetches /live/qty?product_id=… and rewrites
 * the matching numbers. It reconnects with last_event_id, so nothing is missed in a gap.
 */
(function () {
  "use strict";
  var lastId = null, delay = 500;

  function shown() {
    var ids = {};
    document.querySelectorAll("[data-live-product]").forEach(function (el) {
      ids[el.getAttribute("data-live-product")] = true;
    });
    return ids;
  }

  function fmt(n) {
    var s = String(Math.round(n * 10000) / 10000);
    return s;
  }

  function refresh(productIds) {
    if (!productIds.length) return;
    var q = productIds.map(function (p) { return "product_id=" + encodeURIComponent(p); }).join("&");
    fetch("/live/qty?" + q, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (j) {
      document.querySelectorAll("[data-live-product]").forEach(function (el) {
        var p = el.getAttribute("data-live-product");
        if (productIds.indexOf(p) < 0) return;
        var keys = ["warehouse", "location", "location_id", "lot", "lot_id", "status"];
        var total = 0;
        j.items.forEach(function (b) {
          if (String(b.product_id) !== p) return;
          for (var i = 0; i < keys.length; i++) {
            var want = el.getAttribute("data-live-" + keys[i]);
            if (want !== null && want !== "" && String(b[keys[i]]) !== want) return;
          }
          total += parseFloat(b.qty);
        });
        var text = fmt(total);
        var inner = el.getAttribute("data-live-in");  /* the number may sit in a child (a table row's cell) */
        var target = inner ? el.querySelector(inner) : el;
        if (target && target.textContent.trim() !== text) {
          target.textContent = text;
          target.classList.remove("live-changed"); void target.offsetWidth; target.classList.add("live-changed");
        }
      });
      document.dispatchEvent(new CustomEvent("jxc:live", { detail: { products: productIds } }));
    });
  }

  function connect() {
    if (!document.querySelector("[data-live-product]")) return;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/ws" +
      (lastId !== null ? "?last_event_id=" + lastId : "");
    var ws = new WebSocket(url);
    ws.onopen = function () { ws.send(JSON.stringify({ topics: ["stock"] })); };
    ws.onmessage = function (e) {
      var m = JSON.parse(e.data);
      if (m.type === "ready") {
        delay = 500;
        document.documentElement.setAttribute("data-live", "on");
        if (m.last_event_id !== null && m.last_event_id !== undefined) lastId = m.last_event_id;
        return;
      }
      if (m.id) lastId = m.id;
      if (m.type !== "stock.posted" || !m.data || !m.data.buckets) return;
      var on = shown(), hit = {};
      m.data.buckets.forEach(function (b) { if (on[String(b[1])]) hit[String(b[1])] = true; });
      refresh(Object.keys(hit));
    };
    ws.onclose = function () {
      document.documentElement.setAttribute("data-live", "off");
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }

  document.addEventListener("DOMContentLoaded", connect);
})();
