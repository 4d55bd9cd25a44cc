// Admin pages: copy buttons for the snippets. Progressive enhancement only: without
// JavaScript the buttons stay hidden and the snippets can be selected and copied by hand.
"use strict";

function copyText(textarea) {
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(textarea.value).then(() => true, () => legacyCopy(textarea));
  }
  return Promise.resolve(legacyCopy(textarea));
}

function legacyCopy(textarea) {
  textarea.focus();
  textarea.select();
  try {
    return document.execCommand("copy");
  } catch (error) {
    return false;
  }
}

document.querySelectorAll("button[data-copy-target]").forEach((button) => {
  const target = document.getElementById(button.dataset.copyTarget);
  const status = document.getElementById(button.dataset.copyStatus);
  if (!target) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", () => {
    copyText(target).then((ok) => {
      if (status) {
        status.textContent = ok ? button.dataset.copied : button.dataset.copyFailed;
      }
    });
  });
});
