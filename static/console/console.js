// Console niceties that work without it too: click a URL shown as <code class="copyable"> to copy it.
document.addEventListener("click", (event) => {
  const code = event.target.closest("code.copyable");
  if (!code || !navigator.clipboard) return;
  navigator.clipboard.writeText(code.dataset.copy || code.textContent).then(() => {
    code.classList.add("copied");
    setTimeout(() => code.classList.remove("copied"), 1500);
  });
});
