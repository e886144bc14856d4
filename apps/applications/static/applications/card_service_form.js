// Show only the fields the chosen action, reason and applicant need. The server checks them
// again, so with JavaScript off every field simply stays visible.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-card-service-form]");
  if (!form) return;
  const value = (name) => form.querySelector(`input[name=${name}]:checked`)?.value || "";
  const update = () => {
    const facts = new Set([
      `action:${value("action")}`,
      `reason:${value("reason")}`,
      `applicant:${value("applicant_type")}`,
    ]);
    form.querySelectorAll("[data-show-when]").forEach((row) => {
      row.hidden = !row.dataset.showWhen.split(" ").some((c) => facts.has(c));
    });
  };
  form.addEventListener("change", update);
  update();
});
