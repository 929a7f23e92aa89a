// Copy buttons: <button data-copy="text" data-copied="…" data-press-ctrl-c="…">, the two words
// in the page's language. Works for rows htmx swaps in later, too.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    button.textContent = button.dataset.copied || "Copied";
  } catch {
    // No clipboard access (plain http, old browser): select the text so Ctrl-C copies it.
    const code = button.previousElementSibling;
    window.getSelection().selectAllChildren(code);
    button.textContent = button.dataset.pressCtrlC || "Press Ctrl-C";
  }
  announce(button.textContent);
  setTimeout(() => { button.textContent = label; }, 2000);
});

// The account menu is a disclosure: Escape closes it (focus back on its button), and so does a
// click anywhere outside it.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  document.querySelectorAll("details.account-menu[open]").forEach((menu) => {
    menu.open = false;
    menu.querySelector("summary").focus();
  });
});
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.account-menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.open = false;
  });
});

// The left navigation, open on a wide screen, folds behind its "Menu" button on a narrow one,
// so that a phone shows the page first.
const wide = window.matchMedia("(min-width: 761px)");
function fitNavigation() {
  document.querySelectorAll("details.nav-menu").forEach((nav) => { nav.open = wide.matches; });
}
wide.addEventListener("change", fitNavigation);

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
  fitNavigation();
  document.querySelectorAll("details.benefit").forEach((row) => {
    row.dataset.announced = statusOf(row);
  });
});
document.addEventListener("htmx:afterSwap", (event) => {
  const row = event.detail.target.closest("details.benefit");
  if (!row) return;
  // A message true only while this row waited ("Allow a few days...") goes once it doesn't.
  if (!row.querySelector(".status-pending")) {
    // Its id is "<kind>-<offer id>-<benefit or product>": benefit-, cloud- or offer-.
    const key = row.id.replace(/^[a-z]+-/, "");
    document.querySelectorAll(`.message.pending-${key}`).forEach((message) => message.remove());
  }
  const text = statusOf(row);
  if (row.dataset.announced !== text) {  // only a change is read out, not every poll
    announce(text);
    row.dataset.announced = text;
  }
});
