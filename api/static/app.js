// citeqa web page: ask, show the answer, its quoted sources and their context.
//
// Every piece of user or document text reaches the page through textContent or text nodes
// (never parsed as HTML), so a question or a document containing markup shows as text.
"use strict";

(() => {
  const KEY_STORAGE = "citeqa.apiKey";
  const $ = (id) => document.getElementById(id);
  const documents = new Map(); // "version\ndoc_id" -> Promise of {doc_id, text, version}
  let latestRequest = 0;

  // -- small DOM helpers ---------------------------------------------------------------

  /** An element with attributes and children; strings become text nodes, never markup. */
  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === "className") node.className = value;
      else node.setAttribute(name, String(value));
    }
    node.append(...children.filter((child) => child !== null && child !== undefined));
    return node;
  }

  function setStatus(message, kind = "info") {
    const status = $("status");
    status.textContent = message;
    status.dataset.kind = kind;
  }

  // -- offsets ---------------------------------------------------------------------------

  /**
   * The UTF-16 index of a code-point offset in `text`, or -1 when it lies past the end.
   * The server counts offsets in Unicode code points (Python strings); JavaScript strings
   * index UTF-16 units, which differ as soon as the text holds an emoji or a rare CJK
   * character.
   */
  function unitIndex(text, codePoints) {
    if (codePoints < 0) return -1;
    if (!/[\uD800-\uDFFF]/.test(text)) return codePoints <= text.length ? codePoints : -1;
    let units = 0;
    for (let n = 0; n < codePoints; n += 1) {
      if (units >= text.length) return -1;
      units += text.codePointAt(units) > 0xffff ? 2 : 1;
    }
    return units;
  }

  /**
   * `text` (which starts at document offset `base`) with [start, end) wrapped in <mark>.
   * Returns null when the offsets don't fit the text or don't give back `expected`, so the
   * caller can fall back instead of highlighting the wrong words.
   */
  function highlight(text, base, start, end, expected, answer, pages) {
    const from = unitIndex(text, start - base);
    const to = unitIndex(text, end - base);
    if (from < 0 || to < from) return null;
    const span = text.slice(from, to);
    if (expected !== undefined && span !== expected) return null;
    const mark = el("mark", { className: "quote" }, ...withAnswer(span, answer));
    const fragment = document.createDocumentFragment();
    const breaks = pageBreaks(text, pages);
    fragment.append(...withBreaks(text, 0, from, breaks), mark, ...withBreaks(text, to, text.length, breaks));
    return { fragment, mark };
  }

  /** [unit index, page number] of every page start after the first (PDF documents). */
  function pageBreaks(text, pages) {
    if (!Array.isArray(pages)) return [];
    return pages
      .map((offset, n) => [unitIndex(text, offset), n + 1])
      .filter(([at, page]) => page > 1 && at >= 0);
  }

  /** text[from, to) as text nodes with a page-break marker where each page starts. */
  function withBreaks(text, from, to, breaks) {
    const nodes = [];
    let at = from;
    for (const [offset, page] of breaks) {
      if (offset <= from || offset >= to) continue;
      nodes.push(text.slice(at, offset));
      nodes.push(el("span", { className: "page-break", role: "separator", "aria-label": `page ${page}`, "data-page": String(page) }));
      at = offset;
    }
    nodes.push(text.slice(at, to));
    return nodes;
  }

  /** "p. 37" / "pp. 37–38" for an item of a PDF, "" otherwise. */
  function pageLabel(item) {
    if (item.page_start == null) return "";
    if (item.page_end == null || item.page_end === item.page_start) return `p. ${item.page_start}`;
    return `pp. ${item.page_start}–${item.page_end}`;
  }

  /** The section path, with the pages beside it for a PDF. */
  function sectionLine(item) {
    const label = pageLabel(item);
    return el(
      "p",
      { className: "section" },
      item.section || "(no section heading)",
      label ? el("span", { className: "pages" }, ` · ${label}`) : null,
    );
  }

  /** The quote's text with the short answer inside it in bold, when it is a part of it. */
  function withAnswer(quote, answer) {
    const at = answer && answer !== quote ? quote.indexOf(answer) : -1;
    if (at < 0) return [quote];
    const strong = el("strong", { className: "answer-in-quote" }, answer);
    return [quote.slice(0, at), strong, quote.slice(at + answer.length)];
  }

  // -- talking to the server ----------------------------------------------------------------

  function storedKey() {
    try {
      return localStorage.getItem(KEY_STORAGE) || "";
    } catch {
      return ""; // storage disabled: the key field still works for this page
    }
  }

  function storeKey(key) {
    try {
      if (key) localStorage.setItem(KEY_STORAGE, key);
      else localStorage.removeItem(KEY_STORAGE);
    } catch {
      /* storage disabled */
    }
  }

  /** Fetch JSON from the API (relative to this page); throws an Error with the server's message. */
  async function api(path, options = {}) {
    const headers = new Headers(options.headers || {});
    const key = $("api-key").value.trim();
    if (key) headers.set("Authorization", `Bearer ${key}`);
    let response;
    try {
      response = await fetch(path, { ...options, headers });
    } catch {
      throw Object.assign(new Error("The server cannot be reached."), { status: 0 });
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) {
      const detail = body && typeof body.detail === "string" ? body.detail : response.statusText;
      throw Object.assign(new Error(detail || `HTTP ${response.status}`), {
        status: response.status,
      });
    }
    return body;
  }

  function documentPath(docId, version) {
    const path = "documents/" + docId.split("/").map(encodeURIComponent).join("/");
    return version ? `${path}?version=${encodeURIComponent(version)}` : path;
  }

  /** The document as the index version the answer came from stored it (a reload since
   * may have changed the current text; the server keeps the last few versions). */
  function fetchDocument(docId, version) {
    const key = `${version || ""}\n${docId}`;
    if (!documents.has(key)) {
      const pending = api(documentPath(docId, version));
      pending.catch(() => documents.delete(key)); // retry on the next attempt
      documents.set(key, pending);
    }
    return documents.get(key);
  }

  // -- rendering --------------------------------------------------------------------------

  function whereText(item) {
    return `${item.doc_id} · characters ${item.start}–${item.end}`;
  }

  /** Fill `quoteBox` with the citation's passage, the quoted span highlighted. */
  function showQuoteInPassage(quoteBox, citation, passage, answer) {
    const marked = passage
      ? highlight(passage.text, passage.start, citation.start, citation.end, citation.quote, answer)
      : null;
    if (marked) {
      quoteBox.replaceChildren(marked.fragment);
    } else {
      // The passage is unknown or its offsets don't match: show the quote on its own.
      quoteBox.replaceChildren(el("mark", { className: "quote" }, ...withAnswer(citation.quote, answer)));
    }
  }

  async function showInDocument(frame, citation, answer, version) {
    frame.dataset.state = "loading";
    frame.textContent = "Loading the document…";
    try {
      const doc = await fetchDocument(citation.doc_id, version);
      const marked = highlight(doc.text, 0, citation.start, citation.end, citation.quote, answer, doc.pages);
      if (!marked) {
        frame.replaceChildren(
          el("p", { className: "note" }, "The quote could not be located in this version of the document."),
          doc.text,
        );
        frame.dataset.state = "unmatched";
        return;
      }
      frame.replaceChildren(marked.fragment);
      frame.dataset.state = "loaded";
      // Scroll the frame, not the page, so the quote sits a third of the way down.
      frame.scrollTop = Math.max(0, marked.mark.offsetTop - frame.clientHeight / 3);
    } catch (error) {
      frame.textContent = `The document could not be loaded: ${error.message}`;
      frame.dataset.state = "error";
    }
  }

  function citationItem(citation, passages, answer, version, number) {
    const quoteBox = el("blockquote", { className: "passage-text", dir: "auto" });
    const passage = passages.find((p) => p.chunk_id === citation.chunk_id);
    if (passage) {
      showQuoteInPassage(quoteBox, citation, passage, answer);
    } else {
      // The cited passage fell outside the k shown: fetch it by id.
      showQuoteInPassage(quoteBox, citation, null, answer);
      api(`passages/${encodeURIComponent(citation.chunk_id)}`)
        .then((found) => showQuoteInPassage(quoteBox, citation, found, answer))
        .catch(() => {});
    }
    const frame = el("div", {
      className: "document",
      tabindex: "0",
      role: "region",
      "aria-label": `Full text of ${citation.doc_id}`,
      dir: "auto",
    });
    const inDocument = el(
      "details",
      { className: "in-document" },
      el("summary", {}, "Show in the full document"),
      frame,
    );
    inDocument.addEventListener("toggle", () => {
      if (inDocument.open && frame.dataset.state !== "loaded") {
        showInDocument(frame, citation, answer, version);
      }
    });
    const by = citation.source === "model" ? "quoted by the model, found in the source" : "cut by the reader";
    return el(
      "li",
      { className: "citation", id: `citation-${number}` },
      sectionLine(citation),
      quoteBox,
      el("p", { className: "meta" }, whereText(citation), el("span", { className: `badge ${citation.source || "reader"}` }, by)),
      inDocument,
    );
  }

  function passageItem(passage, cited) {
    return el(
      "li",
      { className: cited ? "passage cited" : "passage" },
      sectionLine(passage),
      el("p", { className: "passage-text", dir: "auto" }, passage.text),
      el(
        "p",
        { className: "meta" },
        `${whereText(passage)} · score ${passage.score.toFixed(3)}`,
        cited ? el("span", { className: "badge" }, "quoted above") : null,
      ),
    );
  }

  function confidenceLabel(value) {
    if (value >= 0.75) return "high";
    if (value >= 0.5) return "medium";
    return "low";
  }

  function render(answer) {
    $("asked").textContent = answer.question;
    const card = $("answer-card");
    card.classList.toggle("abstained", answer.abstained);
    if (answer.abstained) {
      $("answer-label").textContent = "Not found in the sources";
      $("answer").textContent =
        "The documents don't answer this question. The nearest passages are listed below.";
    } else {
      $("answer-label").textContent = "Answer";
      $("answer").textContent = answer.answer;
    }
    // A short answer ("2010") stands out large; a whole sentence reads better at text size.
    $("answer").classList.toggle("long", !answer.abstained && (answer.answer || "").length > 60);
    renderModelCheck(answer);
    const calibrated = typeof answer.confidence === "number";
    $("confidence").hidden = !calibrated;
    if (calibrated) {
      const percent = Math.round(answer.confidence * 100);
      $("confidence-text").textContent =
        `Confidence ${percent}% (${confidenceLabel(answer.confidence)})`;
      $("confidence-meter").value = answer.confidence;
    }
    $("confidence-note").hidden = answer.abstained || !calibrated || answer.confidence >= 0.5;

    const cited = new Set(answer.citations.map((c) => c.chunk_id));
    $("citations-section").hidden = answer.citations.length === 0;
    $("citations").replaceChildren(
      ...answer.citations.map((c, n) => citationItem(c, answer.passages, answer.answer, answer.index_version, n + 1)),
    );
    $("passages-heading").textContent = `Nearest passages (${answer.passages.length})`;
    $("passages").replaceChildren(...answer.passages.map((p) => passageItem(p, cited.has(p.chunk_id))));
    $("passages-section").open = answer.abstained;
    $("result").hidden = false;
  }

  /** What became of the model's answer: who wrote it, or why it is not shown. */
  function renderModelCheck(answer) {
    const check = answer.llm || null;
    const verified = check !== null && check.outcome === "verified";
    $("llm-notice").hidden = check === null || check.outcome === "verified";
    if (check !== null && check.outcome === "unverified") {
      $("llm-notice").textContent =
        `${capitalised(check.reason)}. The extractive reader's answer is shown instead.`;
    } else if (check !== null && check.outcome === "abstained") {
      $("llm-notice").textContent = `The model (${check.model}) found no answer in the passages.`;
    }
    $("written-by").hidden = !verified;
    if (verified) {
      $("written-by").textContent =
        `Written by the model (${check.model}); every quote below was found, word for word, in the sources.`;
      // numbered quote marks after the answer, each opening its quote in the document
      $("answer").append(...answer.citations.map((c, n) => quoteMark(n + 1)));
    }
  }

  function quoteMark(number) {
    const link = el("a", { className: "quote-mark", href: `#citation-${number}` }, `[${number}]`);
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const item = $(`citation-${number}`);
      if (!item) return;
      const details = item.querySelector("details.in-document");
      if (details) details.open = true; // its toggle loads and highlights the quote
      item.scrollIntoView({ block: "start" });
    });
    return link;
  }

  function capitalised(text) {
    return text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
  }

  /** Show the answerer switch when the server has a model endpoint (GET /ready says). */
  async function checkModel(attempt = 0) {
    try {
      const ready = await api("ready");
      $("answerer-switch").dataset.checked = "true"; // the server has said (for tests, too)
      if (!ready || !ready.llm) return;
      $("llm-model").textContent = ready.llm.answers
        ? `(${ready.llm.model})`
        : `(${ready.llm.model}, not answering just now)`;
      $("answerer-switch").hidden = false;
    } catch (error) {
      // still loading (503) or a key is needed: try again a little later
      if (attempt < 30 && error.status !== 401) setTimeout(() => checkModel(attempt + 1), 2000);
    }
  }

  // -- the form ---------------------------------------------------------------------------

  async function ask(event) {
    event.preventDefault();
    const question = $("question").value;
    if (!question.trim()) {
      setStatus("Type a question first.", "error");
      return;
    }
    const k = Math.min(50, Math.max(1, Number.parseInt($("k").value, 10) || 5));
    const request = ++latestRequest;
    const answerer = !$("answerer-switch").hidden && $("use-llm").checked ? "llm" : "extractive";
    $("ask-button").disabled = true;
    setStatus(answerer === "llm" ? "The model is writing; its quotes will be checked…" : "Searching the sources…", "busy");
    try {
      const answer = await api("ask", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ question, k, answerer }),
      });
      if (request !== latestRequest) return; // a newer question was asked meanwhile
      render(answer);
      setStatus("");
    } catch (error) {
      if (request !== latestRequest) return;
      if (error.status === 401) {
        $("options").open = true;
        $("api-key").focus();
      }
      setStatus(error.message, "error");
    } finally {
      if (request === latestRequest) $("ask-button").disabled = false;
    }
  }

  function start() {
    $("api-key").value = storedKey();
    $("api-key").addEventListener("change", (event) => {
      storeKey(event.target.value.trim());
      checkModel(); // with a key, /ready may now say whether there is a model
    });
    $("ask-form").addEventListener("submit", ask);
    $("question").addEventListener("keydown", (event) => {
      // Enter asks, Shift+Enter starts a new line; never while an input method is composing.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("ask-form").requestSubmit();
      }
    });
    $("question").focus();
    checkModel();
  }

  // The offset arithmetic, for the browser test.
  window.citeqaOffsets = Object.freeze({ unitIndex });
  start();
})();
