/* 扫码录入 — keyboard-wedge scanners and phone cameras on every line-entry field.
 *
 * A scan field is <input data-scan> inside a <form data-lines="add|order|count">.
 *  - A wedge scanner types the code and presses Enter: the code is looked up
 *    (GET /scan/lookup?code=), the product's line appears with qty 1 and its qty field
 *    focused (typed digits replace the 1); a second scan of the same code adds one.
 *  - mode "order": only the order's own lines (rows already on the page) can be scanned.
 *  - unknown code: #scan-unknown shows it, with a form to link it to a product (HTMX,
 *    only rendered for holders of masterdata.edit).
 *  - [data-camera] opens the phone camera and uses the browser's BarcodeDetector
 *    (hidden where the browser has none); nothing is downloaded at run time.
 * Texts come from data-msg-* attributes on the form, so they follow the page language.
 */
(function () {
  "use strict";

  function msg(form, name, code) {
    var t = form.getAttribute("data-msg-" + name) || name;
    return t.replace("%(code)s", code || "");
  }

  function say(form, text, kind) {
    var box = form.querySelector("[data-scan-status]") || document.getElementById("scan-status");
    if (!box) return;
    box.textContent = text;
    box.className = kind || "ok";
  }

  function rowFor(form, productId) {
    return form.querySelector('tr[data-product-id="' + productId + '"]:not([data-fixed-lot])');
  }

  function bump(row) {
    var qty = row.querySelector("input[data-qty]");
    var n = parseFloat(qty.value || "0");
    qty.value = String((isNaN(n) ? 0 : n) + 1);
    qty.dispatchEvent(new Event("change", { bubbles: true }));
    row.classList.remove("flash"); void row.offsetWidth; row.classList.add("flash");
    return qty;
  }

  function focusQty(qty) {
    qty.focus();
    qty.select();
  }

  function params(form, extra) {
    var p = new URLSearchParams(extra);
    ["kind", "warehouse_id", "line_context"].forEach(function (name) {
      var el = form.querySelector('[name="' + name + '"]');
      if (el && el.value) p.set(name, el.value);
    });
    return p.toString();
  }

  function addProduct(form, productId, code) {
    var mode = form.getAttribute("data-lines") || "add";
    var existing = rowFor(form, productId);
    if (existing) {
      var q = bump(existing);
      say(form, msg(form, "added", code), "ok");
      if (mode !== "order") focusQty(q); else refocus(form);
      return Promise.resolve(existing);
    }
    if (mode === "order") {
      say(form, msg(form, "notonorder", code), "error");
      refocus(form);
      return Promise.resolve(null);
    }
    var url = form.getAttribute("data-line-url") || "/documents/line";
    return fetch(url + "?" + params(form, { product_id: productId }), { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var body = form.querySelector("tbody[data-line-rows]");
        var tmp = document.createElement("tbody");
        tmp.innerHTML = html.trim();
        var row = tmp.querySelector("tr");
        if (!row) return null;
        body.appendChild(row);
        renumber(form);
        if (window.htmx) window.htmx.process(row);
        var empty = form.querySelector("[data-no-lines]");
        if (empty) empty.hidden = true;
        focusQty(row.querySelector("input[data-qty]"));
        say(form, msg(form, "found", code), "ok");
        return row;
      });
  }

  function renumber(form) {
    var rows = form.querySelectorAll("tbody[data-line-rows] tr[data-product-id]");
    rows.forEach(function (row, i) {
      row.querySelectorAll("[data-name]").forEach(function (el) {
        el.name = "lines-" + i + "-" + el.getAttribute("data-name");
        if (el.id && el.id.indexOf("lines-") === 0) el.id = el.name;
      });
      row.querySelectorAll("[data-error-for]").forEach(function (el) {
        el.id = "lines-" + i + "-" + el.getAttribute("data-error-for") + "-error";
      });
      var no = row.querySelector("[data-line-no]");
      if (no) no.textContent = String(i + 1);
    });
  }

  function refocus(form) {
    var input = form.querySelector("input[data-scan]");
    if (input) { input.value = ""; input.focus(); }
  }

  function unknown(form, code) {
    say(form, msg(form, "unknown", code), "error");
    var box = document.getElementById("scan-unknown");
    if (!box) return;
    box.hidden = false;
    box.querySelectorAll("[data-unknown-code]").forEach(function (el) {
      if ("value" in el && el.tagName === "INPUT") el.value = code; else el.textContent = code;
    });
  }

  function scan(form, input) {
    var code = (input.value || "").trim();
    if (!code) return;
    input.value = "";
    fetch("/scan/lookup?code=" + encodeURIComponent(code), { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (res) {
        if (res[0] === 200 && res[1].product_id) {
          var hide = document.getElementById("scan-unknown");
          if (hide) hide.hidden = true;
          return addProduct(form, res[1].product_id, code);
        }
        unknown(form, code);
      })
      .catch(function () { say(form, msg(form, "offline", code), "error"); });
  }

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key !== "Enter" || !t || !t.matches) return;
    var form = t.closest("form[data-lines]");
    if (!form) return;
    if (t.matches("input[data-link-input]")) {
      e.preventDefault();
      var link = document.getElementById("link-button");
      if (link) link.click();
    } else if (t.matches("input[data-scan]")) {
      e.preventDefault();
      scan(form, t);
    } else if (t.matches("input:not([type=submit]):not([type=search])")) {
      e.preventDefault();  /* Enter after a qty or lot (scanners send one): back to scanning, never a half-finished submit */
      refocus(form);
    }
  });

  document.addEventListener("click", function (e) {
    var add = e.target.closest && e.target.closest("[data-add-product]");
    if (add) {
      e.preventDefault();
      var form = document.querySelector("form[data-lines]");
      if (form) addProduct(form, add.getAttribute("data-add-product"), add.getAttribute("data-code") || "");
      var results = document.getElementById("product-results");
      if (results) results.innerHTML = "";
      return;
    }
    var del = e.target.closest && e.target.closest("[data-remove-line]");
    if (del) {
      e.preventDefault();
      var f = del.closest("form[data-lines]");
      del.closest("tr").remove();
      if (f) renumber(f);
    }
  });

  /* 摄像头扫码 — BarcodeDetector where the browser has it (Chrome on Android, …). */
  function camera(button) {
    var form = button.closest("form[data-lines]") || document.querySelector("form[data-lines]");
    var input = form && form.querySelector("input[data-scan]");
    var video = document.getElementById(button.getAttribute("data-camera"));
    if (!input || !video) return;
    if (video.srcObject) { stop(video); return; }
    var detector = new window.BarcodeDetector();
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      var last = "", lastAt = 0;
      (function tick() {
        if (!video.srcObject) return;
        detector.detect(video).then(function (codes) {
          var now = Date.now();
          if (codes.length && (codes[0].rawValue !== last || now - lastAt > 1500)) {
            last = codes[0].rawValue; lastAt = now;
            input.value = last;
            scan(form, input);
          }
          window.setTimeout(tick, 200);
        }).catch(function () { window.setTimeout(tick, 500); });
      })();
    }).catch(function () { say(form, msg(form, "nocamera", ""), "error"); });
  }

  function stop(video) {
    video.srcObject.getTracks().forEach(function (t) { t.stop(); });
    video.srcObject = null;
    video.hidden = true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var has = "BarcodeDetector" in window && navigator.mediaDevices;
    document.querySelectorAll("[data-camera]").forEach(function (b) {
      b.hidden = !has;
      b.addEventListener("click", function (e) { e.preventDefault(); camera(b); });
    });
    document.querySelectorAll("form[data-lines]").forEach(renumber);
  });

  window.jxcScan = { addProduct: addProduct, renumber: renumber };
})();
