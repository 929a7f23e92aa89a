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
  setTimeout(() => { button.textContent = label; }, 2000);
});
