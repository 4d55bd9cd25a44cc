// embedguard loader for host pages (optional). Turns
//   <a href="https://vimeo.com/76979871" data-embedguard>Title</a>
// (and Facebook page, X account and X post links) into embedguard frames showing the
// two-click placeholder. Without this script, the plain links remain; with it, the link
// stays below the frame. Each frame gets its final size at once (a video's aspect ratio, a
// fixed height for pages and posts) and keeps it through consent and loading, so the host
// page does not jump. A link whose embed is not allowed is left alone.
// Loaded in <head> without defer, it turns each link into its frame as the parser reaches
// it, before the browser first paints it, so not even the first frame moves the text
// below; loaded with defer or async it works the same, one moment later.
// Optional attributes: data-embedguard-ratio="16:9" (fixed aspect ratio),
// data-embedguard-height="600" (fixed height in px), data-embedguard-lang="de" (else the
// nearest lang attribute).
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script || !script.src) {
    return;
  }
  // embedguard's own origin: where this script came from, whatever site includes it.
  const BASE = new URL(script.src).origin;
  const MIN_HEIGHT = 158;
  const MAX_HEIGHT = 3000;
  // Each provider's link hosts, label, fixed ratio or frame height: filled in from
  // embedguard's provider registry when /embed.js is served (src/embedguard/loader_script.py).
  const KINDS = /*! embedguard:kinds */[];
  const DEFAULT_KIND = { label: "embedguard", height: 500 };
  const frames = [];

  function kindOf(url) {
    const host = url.hostname.toLowerCase().replace(/^(www|m|mobile|web)\./, "");
    return KINDS.find((kind) => kind.hosts.includes(host)) || DEFAULT_KIND;
  }

  function ratioOf(link, kind) {
    const given = /^\s*(\d{1,5})\s*[:/x]\s*(\d{1,5})\s*$/.exec(link.dataset.embedguardRatio || "");
    if (given && Number(given[1]) > 0 && Number(given[2]) > 0) {
      return [Number(given[1]), Number(given[2])];
    }
    return link.dataset.embedguardHeight ? null : kind.ratio || null;
  }

  function heightOf(link, kind, url) {
    const given = Number(link.dataset.embedguardHeight);
    if (Number.isFinite(given) && given > 0) {
      return Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, Math.round(given)));
    }
    const post = /\/status(es)?\/\d/.test(url.pathname);
    return (post && kind.postHeight) || kind.height || DEFAULT_KIND.height;
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
      frame.style.aspectRatio = ratio[0] + " / " + ratio[1];
      frame.style.height = "auto";
    } else {
      frame.style.height = heightOf(link, kind, url) + "px";
    }
    if (kind.maxWidth && !ratio) {
      frame.style.maxWidth = kind.maxWidth + "px";
    }
    frame.src = BASE + "/embed?" + query.toString();
    frames.push({ frame: frame, link: link, kind: kind, lang: lang });
    link.parentNode.insertBefore(frame, link);
  }

  function retitle() {
    // While parsing, a link's text may not have arrived when its frame was made.
    frames.forEach((entry) => {
      entry.frame.title = titleOf(entry.link, entry.kind, entry.lang);
    });
  }

  function onMessage(event) {
    if (event.origin !== BASE || !event.data || event.data.type !== "embedguard:unavailable") {
      return;
    }
    const index = frames.findIndex((entry) => entry.frame.contentWindow === event.source);
    if (index >= 0) {
      // Not allowed (any more): the plain link is all the visitor should see.
      frames.splice(index, 1)[0].frame.remove();
    }
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
    // Mutation callbacks run before the next paint: links become frames before anyone sees
    // them as links.
    const observer = new MutationObserver(run);
    observer.observe(document.documentElement, { childList: true, subtree: true });
    document.addEventListener("DOMContentLoaded", () => {
      observer.disconnect();
      run();
      retitle();
    });
  } else {
    run();
  }
})();
