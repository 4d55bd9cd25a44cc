// embedguard loader for host pages (optional). Turns
//   <a href="https://vimeo.com/76979871" data-embedguard>Title</a>
// (and Facebook page, X account and X post links) into embedguard frames showing the
// two-click placeholder, and sizes them. Without this script, the plain links remain;
// with it, the link stays below the frame.
// Optional attributes: data-embedguard-ratio="16:9" (fixed aspect ratio),
// data-embedguard-lang="de" (else the nearest lang attribute).
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script || !script.src) {
    return;
  }
  // embedguard's own origin: where this script came from, whatever site includes it.
  const BASE = new URL(script.src).origin;
  const FIT_NAME = "embedguard-fit-height"; // frame.js grows and shrinks with such frames
  const MIN_HEIGHT = 120;
  const MAX_HEIGHT = 3000;
  const DEFAULT_HEIGHT = 500;
  // Each provider's link hosts, label and fixed ratio: filled in from embedguard's provider
  // registry when /embed.js is served (src/embedguard/loader_script.py).
  const KINDS = /* embedguard:kinds */ [];
  const frames = [];

  function kindOf(url) {
    const host = url.hostname.toLowerCase().replace(/^(www|m|mobile|web)\./, "");
    return KINDS.find((kind) => kind.hosts.includes(host)) || { label: "embedguard" };
  }

  function ratioOf(link, kind) {
    const given = /^\s*(\d{1,5})\s*[:/x]\s*(\d{1,5})\s*$/.exec(link.dataset.embedguardRatio || "");
    if (given && Number(given[1]) > 0 && Number(given[2]) > 0) {
      return [Number(given[1]), Number(given[2])];
    }
    return kind.ratio || null;
  }

  function languageOf(link) {
    const marked = link.closest("[lang]");
    const lang = (link.dataset.embedguardLang || (marked ? marked.lang : "")).toLowerCase();
    return /^[a-z]{2}\b/.test(lang) ? lang.slice(0, 2) : "";
  }

  function titleOf(link, kind, lang) {
    const text = link.textContent.replace(/\s+/g, " ").trim();
    if (text) {
      return text;
    }
    return lang === "en" ? "Content from " + kind.label : "Inhalt von " + kind.label;
  }

  function upgrade(link) {
    let url;
    try {
      url = new URL(link.href);
    } catch (error) {
      return;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      return;
    }
    link.dataset.embedguard = "done";
    const kind = kindOf(url);
    const ratio = ratioOf(link, kind);
    const lang = languageOf(link);
    const query = new URLSearchParams({ url: url.href });
    if (lang) {
      query.set("lang", lang);
    }
    const frame = document.createElement("iframe");
    frame.title = titleOf(link, kind, lang);
    frame.setAttribute("loading", "lazy");
    frame.setAttribute("allow", "autoplay; fullscreen; picture-in-picture");
    frame.allowFullscreen = true;
    frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
    frame.style.display = "block";
    frame.style.width = "100%";
    frame.style.border = "0";
    if (ratio) {
      frame.dataset.embedguardFit = "ratio";
      frame.style.aspectRatio = ratio[0] + " / " + ratio[1];
      frame.style.height = "auto";
    } else {
      frame.dataset.embedguardFit = "height";
      frame.name = FIT_NAME;
      frame.style.height = DEFAULT_HEIGHT + "px";
    }
    frame.src = BASE + "/embed?" + query.toString();
    frames.push(frame);
    link.parentNode.insertBefore(frame, link);
  }

  function onMessage(event) {
    if (event.origin !== BASE) {
      return;
    }
    const frame = frames.find((candidate) => candidate.contentWindow === event.source);
    const data = event.data;
    if (!frame || frame.dataset.embedguardFit !== "height" || !data) {
      return;
    }
    if (data.type !== "embedguard:size" || !Number.isFinite(data.height)) {
      return;
    }
    const height = Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, Math.round(data.height)));
    frame.style.height = height + "px";
  }

  function run() {
    document.querySelectorAll("a[href][data-embedguard]").forEach((link) => {
      if (link.dataset.embedguard !== "done") {
        upgrade(link);
      }
    });
  }

  window.addEventListener("message", onMessage);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
