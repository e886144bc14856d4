// Show only the evidence fields the chosen reason needs (R-REI-1). The server checks them
// again, so with JavaScript off every field simply stays visible.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-application-form]");
  if (!form) return;
  const update = () => {
    const reason = form.querySelector("input[name=reissue_reason]:checked")?.value || "";
    const applicant = form.querySelector("input[name=applicant_type]:checked")?.value || "";
    const facts = new Set([`reason:${reason}`, `applicant:${applicant}`]);
    if (form.querySelector("input[name=old_card_lost]")?.checked) facts.add("old_card_lost");
    if (form.querySelector("input[name=express]")?.checked) facts.add("express");
    form.querySelectorAll("[data-show-when]").forEach((row) => {
      row.hidden = !row.dataset.showWhen.split(" ").some((c) => facts.has(c));
    });
  };
  form.addEventListener("change", update);
  update();
});
