// Keyboard first: "/" focuses the first search field, as in most back-office tools.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return;
  const field = document.querySelector("[data-search-focus]");
  if (field) { event.preventDefault(); field.focus(); field.select?.(); }
});
