// Copy buttons: <button data-copy="text">. Works for rows htmx swaps in later, too.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    button.textContent = "Copied";
  } catch {
    // No clipboard access (plain http, old browser): select the text so Ctrl-C copies it.
    const code = button.previousElementSibling;
    window.getSelection().selectAllChildren(code);
    button.textContent = "Press Ctrl-C";
  }
  announce(button.textContent);
  setTimeout(() => { button.textContent = label; }, 2000);
});

// Expanders say whether they are open, for screen readers that don't read <details> state.
function markExpanders(root) {
  root.querySelectorAll("details > summary").forEach((summary) => {
    summary.setAttribute("aria-expanded", summary.parentElement.open ? "true" : "false");
  });
}
document.addEventListener("toggle", (event) => {
  const summary = event.target.querySelector(":scope > summary");
  if (summary) summary.setAttribute("aria-expanded", event.target.open ? "true" : "false");
}, true);  // toggle doesn't bubble

// A polite live region, so a status that changes under the user's eyes is read out.
function announce(text) {
  const region = document.getElementById("announcer");
  if (region) region.textContent = text;
}

function statusOf(row) {
  const name = row.querySelector(".benefit-name");
  const status = row.querySelector(".benefit-status");
  return `${name ? name.textContent.trim() : ""}: ${status ? status.textContent.trim() : ""}`;
}

document.addEventListener("DOMContentLoaded", () => {
  markExpanders(document);
  document.querySelectorAll("details.benefit").forEach((row) => {
    row.dataset.announced = statusOf(row);
  });
});
document.addEventListener("htmx:afterSwap", (event) => {
  markExpanders(event.detail.target.parentElement || document);
  const row = event.detail.target.closest("details.benefit");
  if (!row) return;
  // A message true only while this row waited ("Allow a few days...") goes once it doesn't.
  if (!row.querySelector(".status-pending")) {
    const key = row.id.replace(/^benefit-/, "");
    document.querySelectorAll(`.message.pending-${key}`).forEach((message) => message.remove());
  }
  const text = statusOf(row);
  if (row.dataset.announced !== text) {  // only a change is read out, not every poll
    announce(text);
    row.dataset.announced = text;
  }
});
