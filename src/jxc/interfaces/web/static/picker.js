/* 选择器 — pick one product or partner on a filter form by typing its code, name, pinyin initials
 * (or a product's barcode), the same search the document forms use.
 *
 *   <div data-picker data-picker-url="/products/search">
 *     <input type="hidden" name="product_id" data-pick-value>
 *     <input type="search" data-pick-query>      (no name: only the id is submitted)
 *     <div data-pick-results></div>
 *   </div>
 *
 * The search endpoint answers HTML; a button in it with data-pick-id (or a product result's
 * data-add-product) picks: its id goes to the hidden field, its text to the query box. Enter picks
 * the first result (instead of submitting half-typed), Escape closes the list, and emptying the
 * box clears the pick (all partners / products).
 */
(function () {
  "use strict";

  var timers = new WeakMap();

  function parts(box) {
    return {
      value: box.querySelector("[data-pick-value]"),
      query: box.querySelector("[data-pick-query]"),
      results: box.querySelector("[data-pick-results]")
    };
  }

  function search(box) {
    var p = parts(box), q = p.query.value.trim();
    if (!q) { p.value.value = ""; p.results.innerHTML = ""; return; }
    fetch(box.getAttribute("data-picker-url") + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) { if (p.query.value.trim() === q) p.results.innerHTML = html; });
  }

  function pick(box, button) {
    var p = parts(box);
    p.value.value = button.getAttribute("data-pick-id") || button.getAttribute("data-add-product") || "";
    p.query.value = (button.getAttribute("data-pick-label") || button.textContent).trim().replace(/\s+/g, " ");
    p.results.innerHTML = "";
    p.query.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function choices(box) {
    return parts(box).results.querySelectorAll("[data-pick-id], [data-add-product]");
  }

  document.addEventListener("input", function (e) {
    var box = e.target.closest && e.target.matches("[data-pick-query]") && e.target.closest("[data-picker]");
    if (!box) return;
    window.clearTimeout(timers.get(box));
    if (!e.target.value.trim()) search(box);  /* emptied: "all" at once, before any submit */
    else timers.set(box, window.setTimeout(function () { search(box); }, 250));
  });

  document.addEventListener("click", function (e) {  /* capture: a product result means "pick" here, not "add a line" */
    var button = e.target.closest && e.target.closest("[data-pick-id], [data-add-product]");
    var box = button && button.closest("[data-picker]");
    if (!box) return;
    e.preventDefault();
    e.stopPropagation();
    pick(box, button);
  }, true);

  document.addEventListener("keydown", function (e) {
    var box = e.target.matches && e.target.matches("[data-pick-query]") && e.target.closest("[data-picker]");
    if (!box) return;
    if (e.key === "Enter") {
      var first = choices(box)[0];
      if (first) { e.preventDefault(); pick(box, first); }
    } else if (e.key === "Escape") {
      parts(box).results.innerHTML = "";
    }
  });
})();
