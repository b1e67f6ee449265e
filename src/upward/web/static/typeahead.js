/* Type-ahead for the place search: an ARIA 1.2 combobox over /api/places?q=…
   Without this script the form still works (it submits to /places?q=…). */
(function () {
  "use strict";
  var input = document.querySelector("input[data-typeahead]");
  if (!input || !window.fetch) { return; }
  var endpoint = input.getAttribute("data-typeahead");
  var list = document.createElement("ul");
  var status = document.createElement("div");
  var results = [];
  var active = -1;
  var timer = null;
  var latest = 0;

  list.id = input.id + "-listbox";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Matching places");
  list.hidden = true;
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  input.parentNode.appendChild(list);
  input.parentNode.appendChild(status);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    var options = list.querySelectorAll("[role=option]");
    active = index;
    options.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0 && options[index]) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function render(items) {
    results = items;
    list.textContent = "";
    items.forEach(function (item, i) {
      var option = document.createElement("li");
      var kind = document.createElement("span");
      option.id = list.id + "-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.setAttribute("data-url", item.url);
      option.textContent = item.name + " ";
      kind.className = "small";
      kind.textContent = "(" + item.geo_level + " " + item.geo_id + ")";
      option.appendChild(kind);
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();
        window.location.href = item.url;
      });
      list.appendChild(option);
    });
    status.textContent = items.length ? items.length + " matching places; use the arrow keys to choose"
                                      : "No matching place";
    if (items.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    } else {
      close();
    }
    active = -1;
  }

  function lookup() {
    var q = input.value.trim();
    var ticket = ++latest;
    if (q.length < 2) { render([]); status.textContent = ""; return; }
    fetch(endpoint + "?limit=8&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (body) { if (ticket === latest) { render(body.results || []); } })
      .catch(function () { /* the plain form still works */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookup, 150);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && results.length) {
      event.preventDefault();
      if (list.hidden) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
      highlight((active + 1) % results.length);
    } else if (event.key === "ArrowUp" && results.length) {
      event.preventDefault();
      highlight(active <= 0 ? results.length - 1 : active - 1);
    } else if (event.key === "Enter" && active >= 0 && !list.hidden) {
      event.preventDefault();
      window.location.href = results[active].url;
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", function () { setTimeout(close, 100); });
})();
