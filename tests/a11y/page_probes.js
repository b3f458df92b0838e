// Probes evaluated inside the page under test by checkers.py.
// Defined as one object so a single evaluate() installs them; every probe
// returns plain JSON-serialisable data.
(() => {
  const MARK = "data-a11y-index";
  const NATIVE_CONTROLS =
    "a[href], area[href], button, input:not([type=hidden]), select, textarea";
  const INTERACTIVE = `${NATIVE_CONTROLS}, summary, [tabindex]`;

  function describe(el) {
    if (!el || el === document.body || el === document.documentElement) {
      return "<body>";
    }
    let text = (el.getAttribute("aria-label") || el.labels?.[0]?.textContent || el.textContent || el.value || "")
      .replace(/\s+/g, " ")
      .trim();
    if (text.length > 40) text = `${text.slice(0, 39)}…`;
    const id = el.id ? `#${el.id}` : "";
    const href = el.getAttribute("href");
    return `<${el.localName}${id}${href === null ? "" : ` href="${href}"`}> "${text}"`;
  }

  function isVisible(el) {
    return el.checkVisibility({ visibilityProperty: true, contentVisibilityAuto: true });
  }

  // Native controls must be reachable even when tabindex="-1" takes them out of
  // the tab order (that is the fault); other elements only when they opt in.
  function shouldBeTabbable(el) {
    if (el.matches(":disabled") || el.closest("[inert]") || !isVisible(el)) return false;
    if (el.localName === "summary") {
      return el.parentElement?.localName === "details" &&
        el.parentElement.querySelector(":scope > summary") === el;
    }
    if (el.matches(NATIVE_CONTROLS)) return true;
    return el.tabIndex >= 0;
  }

  function outlineOf(cs) {
    const visible = cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0 &&
      cs.outlineColor !== "rgba(0, 0, 0, 0)";
    return visible ? `${cs.outlineStyle} ${cs.outlineWidth} ${cs.outlineColor}` : "none";
  }

  function bordersOf(cs) {
    return ["Top", "Right", "Bottom", "Left"]
      .map((side) => {
        const width = parseFloat(cs[`border${side}Width`]);
        const style = cs[`border${side}Style`];
        return style === "none" || width === 0 ? "none" : `${width} ${style} ${cs[`border${side}Color`]}`;
      })
      .join("|");
  }

  // What a sighted keyboard user can see change when focus arrives.
  function indicatorSignature(el) {
    const parts = [];
    for (const pseudo of [null, "::before", "::after"]) {
      const cs = getComputedStyle(el, pseudo);
      if (pseudo && (cs.content === "none" || cs.content === "normal")) {
        parts.push(`${pseudo}:absent`);
        continue;
      }
      parts.push(
        outlineOf(cs),
        cs.boxShadow,
        cs.backgroundColor,
        cs.backgroundImage,
        cs.color,
        `${cs.textDecorationLine} ${cs.textDecorationStyle} ${cs.textDecorationThickness} ${cs.textDecorationColor}`,
        bordersOf(cs),
      );
    }
    return parts.join(";");
  }

  function isObscured(el) {
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) return "it has no visible size";
    // A link that wraps has several boxes; its first line is where it starts.
    const r = el.getClientRects()[0] || box;
    if (r.bottom <= 0 || r.right <= 0 || r.top >= innerHeight || r.left >= innerWidth) {
      return "it is outside the viewport";
    }
    const x = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1);
    const y = Math.min(Math.max(r.top + r.height / 2, 0), innerHeight - 1);
    const hit = document.elementFromPoint(x, y);
    if (hit && hit !== el && !el.contains(hit) && !hit.contains(el)) {
      return `it is covered by ${describe(hit)}`;
    }
    return "";
  }

  let nextIndex = 0;

  function markTabbables() {
    for (const el of document.querySelectorAll(`[${MARK}]`)) el.removeAttribute(MARK);
    const found = [];
    for (const el of document.querySelectorAll(INTERACTIVE)) {
      if (!shouldBeTabbable(el)) continue;
      el.setAttribute(MARK, String(found.length));
      found.push(describe(el));
    }
    nextIndex = found.length;
    return found;
  }

  // Elements that take focus without being expected to (say a scrollable box)
  // get an index too, so their resting look can be compared later.
  function activeSnapshot() {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    if (!el.hasAttribute(MARK)) el.setAttribute(MARK, String(nextIndex++));
    const cs = getComputedStyle(el);
    return {
      index: Number(el.getAttribute(MARK)),
      description: describe(el),
      signature: indicatorSignature(el),
      obscured: isObscured(el),
      outlineStyle: cs.outlineStyle,
      outlineWidth: parseFloat(cs.outlineWidth),
    };
  }

  function restingSignatures() {
    document.activeElement?.blur();
    const signatures = {};
    for (const el of document.querySelectorAll(`[${MARK}]`)) {
      signatures[el.getAttribute(MARK)] = indicatorSignature(el);
    }
    return signatures;
  }

  function freezeMotion() {
    const style = document.createElement("style");
    style.textContent =
      "*, *::before, *::after { transition: none !important; animation: none !important; }";
    document.head.append(style);
  }

  function skipLinkTarget(link) {
    const href = link?.getAttribute("href") || "";
    if (!href.startsWith("#") || href.length < 2) return null;
    return document.getElementById(decodeURIComponent(href.slice(1)));
  }

  function focusInsideMain() {
    const main = document.querySelector("main");
    const el = document.activeElement;
    return Boolean(main && el && (el === main || main.contains(el)));
  }

  function deepest(elements) {
    return elements.filter((el) => !elements.some((other) => other !== el && el.contains(other)));
  }

  function overflowingElements() {
    const root = document.documentElement;
    if (root.scrollWidth <= root.clientWidth) return [];
    const wide = [...document.body.querySelectorAll("*")].filter(
      (el) => el.getBoundingClientRect().right > root.clientWidth + 1,
    );
    const culprits = deepest(wide).slice(0, 5).map((el) => {
      const r = el.getBoundingClientRect();
      return `${describe(el)} spans x=${Math.round(r.left)}..${Math.round(r.right)}`;
    });
    return [`page is ${root.scrollWidth}px wide in a ${root.clientWidth}px viewport`, ...culprits];
  }

  function isVisuallyHiddenOnPurpose(el, cs) {
    return el.clientWidth <= 1 || el.clientHeight <= 1 ||
      cs.clip === "rect(0px, 0px, 0px, 0px)" || cs.clipPath.startsWith("inset(50%");
  }

  function applyTextSpacing() {
    const style = document.createElement("style");
    style.id = "a11y-text-spacing";
    style.textContent =
      "* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; }" +
      " p { margin-bottom: 2em !important; }";
    document.head.append(style);
  }

  function clippedText() {
    const clipped = [];
    for (const el of document.body.querySelectorAll("*")) {
      const cs = getComputedStyle(el);
      const hides = (value) => value === "hidden" || value === "clip";
      if (!hides(cs.overflowX) && !hides(cs.overflowY)) continue;
      if (isVisuallyHiddenOnPurpose(el, cs) || !el.textContent.trim()) continue;
      const overX = hides(cs.overflowX) && el.scrollWidth > el.clientWidth + 1;
      const overY = hides(cs.overflowY) && el.scrollHeight > el.clientHeight + 1;
      if (overX || overY) {
        clipped.push(
          `${describe(el)} clips its text (content ${el.scrollWidth}x${el.scrollHeight}, box ${el.clientWidth}x${el.clientHeight})`,
        );
      }
    }
    document.getElementById("a11y-text-spacing")?.remove();
    return clipped;
  }

  const TEXT_BLOCKS = "h1, h2, h3, h4, h5, h6, p, li, dt, dd, td, th, blockquote, figcaption";
  const PRINTED = "data-a11y-printed";

  // Run on screen media: remembers which text blocks of main a reader can see.
  function markMainText() {
    for (const el of document.querySelectorAll(`main :is(${TEXT_BLOCKS})`)) {
      // Navigation and asides may be left out of print; the text may not.
      if (!el.closest("nav, aside") && el.textContent.trim() && isVisible(el)) el.setAttribute(PRINTED, "");
    }
  }

  // Run on print media, after markMainText().
  function printProblems() {
    const problems = [];
    const main = document.querySelector("main");
    const skipLink = [...document.querySelectorAll("a[href^='#']")].find(
      (a) => main && a.compareDocumentPosition(main) & Node.DOCUMENT_POSITION_FOLLOWING,
    );
    for (const el of [...document.querySelectorAll("nav"), skipLink].filter(Boolean)) {
      if (isVisible(el)) problems.push(`${describe(el)} is still shown in print`);
    }
    if (!main || !isVisible(main) || !main.innerText.trim()) {
      problems.push("the main content is not shown in print");
      return problems;
    }
    for (const el of main.querySelectorAll(`[${PRINTED}]`)) {
      const cs = getComputedStyle(el);
      if (!isVisible(el) || cs.color === "rgba(0, 0, 0, 0)" || parseFloat(cs.opacity) === 0) {
        problems.push(`${describe(el)} in main is hidden in print`);
      }
    }
    return problems;
  }

  // Moves the sequential focus starting point back to the top of the page,
  // so the next Tab lands on the first tab stop as on a fresh load.
  function startFocusFromTop() {
    const start = document.createElement("span");
    start.tabIndex = -1;
    document.body.prepend(start);
    start.focus({ preventScroll: true });
    start.blur();
    start.remove();
    window.scrollTo(0, 0);
  }

  function skipLinkState() {
    const link = document.activeElement;
    const target = skipLinkTarget(link);
    const main = document.querySelector("main");
    return {
      description: describe(link),
      isSamePageLink: link?.localName === "a" && (link.getAttribute("href") || "").startsWith("#"),
      obscured: isObscured(link),
      target: target ? describe(target) : "",
      targetInMain: Boolean(target && main && (target === main || main.contains(target))),
    };
  }

  function respondsToDarkScheme() {
    const mentionsScheme = (rule) =>
      (rule.conditionText || rule.media?.mediaText || "").includes("prefers-color-scheme") ||
      [...(rule.cssRules || [])].some(mentionsScheme);
    const sheets = [...document.styleSheets].some((sheet) => {
      try {
        return [...sheet.cssRules].some(mentionsScheme);
      } catch {
        return true; // an unreadable (cross-origin) sheet might
      }
    });
    return sheets || getComputedStyle(document.documentElement).colorScheme.includes("dark");
  }

  // Same-origin URLs the page links to or loads, other than the page itself.
  function sameOriginResources() {
    const here = location.href.split("#")[0];
    const urls = [...document.querySelectorAll("a[href], link[href], script[src], img[src]")]
      .map((el) => new URL(el.href || el.src, document.baseURI).href.split("#")[0])
      .filter((url) => url.startsWith(`${location.origin}/`) && url !== here);
    return [...new Set(urls)];
  }

  window.__a11yProbes = {
    activeSnapshot,
    applyTextSpacing,
    clippedText,
    describe,
    focusInsideMain,
    freezeMotion,
    isObscured,
    markMainText,
    markTabbables,
    overflowingElements,
    printProblems,
    respondsToDarkScheme,
    restingSignatures,
    sameOriginResources,
    skipLinkState,
    skipLinkTarget,
    startFocusFromTop,
  };
})();
