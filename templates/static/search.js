/* Full-text search of the statements, in the browser.

   The build writes one Pagefind index per year of statements under pagefind/<year>/ and lists
   the years in pagefind/years.json. This script loads the newest year's index, merges the
   others into it (Pagefind's mergeIndex), and shows results as an ordinary list of links.
   Without JavaScript the page explains that search needs it and links to the browse pages.
   The state lives in the URL (?q=…&host=…), so a search can be bookmarked and shared. */
(() => {
  "use strict";

  const PAGE_SIZE = 20;
  const form = document.getElementById("search-form");
  if (!form || !window.fetch || !window.DOMParser) return;

  const input = document.getElementById("search-query");
  const status = document.getElementById("search-status");
  const section = document.getElementById("search-results");
  const list = document.getElementById("search-results-list");
  const more = document.getElementById("search-more");
  const selects = Array.from(form.querySelectorAll("select[data-filter]"));
  const messages = form.dataset;
  const uiLang = document.documentElement.lang;
  const typeLabels = new Map(
    Array.from(form.querySelectorAll("select[data-filter='type'] option"), (o) => [o.value, o.text]),
  );

  document.getElementById("search-nojs").hidden = true;

  let loading = null;
  let filled = false;
  let searchNumber = 0;
  let results = [];
  let resultsQuery = "";
  let shown = 0;

  /** Pagefind, with every year's index merged into the newest one's. */
  function loadPagefind() {
    if (!loading) {
      loading = (async () => {
        const root = new URL(messages.index, document.baseURI);
        const response = await fetch(new URL("years.json", root), { cache: "no-cache" });
        if (!response.ok) throw new Error(`years.json answered ${response.status}`);
        const years = (await response.json()).years;
        if (!Array.isArray(years) || years.length === 0) throw new Error("no index to search");
        const bundle = (year) => new URL(`${encodeURIComponent(year)}/`, root).pathname;
        const pagefind = await import(new URL(`${bundle(years[0])}pagefind.js`, root).href);
        const options = { baseUrl: messages.site, excerptLength: 30 };
        await pagefind.options(options);
        await pagefind.init();
        await Promise.all(years.slice(1).map((year) => pagefind.mergeIndex(bundle(year), options)));
        return pagefind;
      })();
      loading.catch(() => { loading = null; }); // a later search tries again
    }
    return loading;
  }

  function chosenFilters() {
    const filters = {};
    for (const select of selects) {
      if (select.value) filters[select.dataset.filter] = select.value;
    }
    return filters;
  }

  function announce(text) {
    // Clear first, so that the same words announced twice in a row are still read out.
    status.textContent = "";
    window.setTimeout(() => { status.textContent = text; }, 50);
  }

  function unavailable(error) {
    if (window.console) console.error("search:", error);
    announce(messages.unavailable);
  }

  /** Offer the values the index has in each filter, sorted for reading. The page lists them
      already; this is for a theme or a build whose page leaves a list empty. */
  async function fillFilters() {
    if (filled || selects.every((select) => select.options.length > 1)) return;
    filled = true;
    let available;
    try {
      available = await (await loadPagefind()).filters();
    } catch (error) {
      unavailable(error);
      return;
    }
    const collator = new Intl.Collator(uiLang);
    for (const select of selects) {
      const key = select.dataset.filter;
      const values = Object.keys(available[key] || {});
      const labels = new Map(Array.from(select.options, (o) => [o.value, o.text]));
      const chosen = select.value;
      values.sort(key === "year" ? (a, b) => Number(b) - Number(a)
        : (a, b) => collator.compare(labels.get(a) || a, labels.get(b) || b));
      const options = values.map((value) => new Option(labels.get(value) || value, value));
      select.replaceChildren(select.options[0], ...options);
      select.value = values.includes(chosen) ? chosen : "";
    }
  }

  function element(name, className, text) {
    const node = document.createElement(name);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Pagefind's excerpt is escaped text with <mark> around the words found: keep just those. */
  function excerptNodes(html) {
    const parsed = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
    return Array.from(parsed.body.childNodes, (node) =>
      node.nodeName === "MARK" ? element("mark", "", node.textContent) : document.createTextNode(node.textContent));
  }

  function resultItem(data, query) {
    const meta = data.meta || {};
    const foreign = meta.lang && meta.lang !== uiLang ? meta.lang : "";
    const inLanguage = (node) => {
      // Text in another language than the page's is marked as such, and its direction set.
      if (!foreign) return node;
      node.lang = foreign;
      if (meta.dir) node.dir = meta.dir;
      return node;
    };
    const item = element("li", "statement-item");
    const heading = element("h3", "statement-item__title");
    const link = element("a", "", meta.title || data.url);
    link.href = data.url;
    heading.append(inLanguage(link));
    const about = element("p", "statement-item__meta");
    if (meta.date) {
      const time = element("time", "", meta.date_label || meta.date);
      time.dateTime = meta.date;
      about.append(inLanguage(time));
    }
    const type = ((data.filters || {}).type || [])[0];
    if (type) about.append(" ", element("span", "statement-item__type", typeLabels.get(type) || type));
    const excerpt = inLanguage(element("p", "search-result__excerpt"));
    // A list by filters alone has no words to show in context: the summary says more.
    if (!query && meta.summary) excerpt.textContent = meta.summary;
    else excerpt.append(...excerptNodes(data.excerpt || ""));
    item.append(heading, about, excerpt);
    return item;
  }

  async function showMore(number) {
    const batch = results.slice(shown, shown + PAGE_SIZE);
    const data = await Promise.all(batch.map((result) => result.data()));
    if (number !== searchNumber) return [];
    const items = data.map((item) => resultItem(item, resultsQuery));
    list.append(...items);
    shown += batch.length;
    more.hidden = shown >= results.length;
    return items;
  }

  function remember(query, filters) {
    const params = new URLSearchParams();
    if (query) params.set("q", query);
    for (const [key, value] of Object.entries(filters)) params.set(key, value);
    const search = params.toString();
    const url = `${window.location.pathname}${search ? `?${search}` : ""}`;
    if (url !== `${window.location.pathname}${window.location.search}`) {
      window.history.pushState(null, "", url);
    }
  }

  async function search({ record = true } = {}) {
    const number = ++searchNumber;
    const query = input.value.trim();
    const filters = chosenFilters();
    if (record) remember(query, filters);
    if (!query && Object.keys(filters).length === 0) {
      results = [];
      list.replaceChildren();
      section.hidden = true;
      announce(messages.prompt);
      return;
    }
    let found;
    try {
      const pagefind = await loadPagefind();
      // Without words there is no relevance to rank by: list the newest first.
      found = await pagefind.search(query || null, { filters, sort: query ? {} : { date: "desc" } });
    } catch (error) {
      unavailable(error);
      return;
    }
    if (number !== searchNumber) return;
    results = found.results;
    resultsQuery = query;
    shown = 0;
    list.replaceChildren();
    await showMore(number);
    if (number !== searchNumber) return;
    section.hidden = results.length === 0;
    fillFilters();
    announce(results.length ? messages.found.replace("{count}", String(results.length))
      : messages.none);
  }

  function restore() {
    const params = new URLSearchParams(window.location.search);
    input.value = params.get("q") || "";
    for (const select of selects) {
      const value = params.get(select.dataset.filter) || "";
      if (value && !Array.from(select.options).some((o) => o.value === value)) {
        select.append(new Option(value, value));
      }
      select.value = value;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  // Filters apply when the form is sent, as in any form: choosing one changes nothing by itself.
  form.addEventListener("focusin", fillFilters);
  more.addEventListener("click", async () => {
    const items = await showMore(searchNumber);
    const link = items.length ? items[0].querySelector("a") : null;
    if (link) link.focus();
  });
  window.addEventListener("popstate", () => {
    restore();
    search({ record: false });
  });

  restore();
  if (input.value.trim() || Object.keys(chosenFilters()).length) search({ record: false });
})();
