// Keeps a dashboard's figures current: every data-refresh-ms it fetches the page's figures
// again (?part=figures, with the same cookie) and puts them in place, then says so in the
// page's status line, which a screen reader reads out politely. Nothing else runs here: the
// page is whole without this script.
(() => {
  const figures = document.getElementById("figures");
  if (!figures) return;
  const every = Number(figures.dataset.refreshMs);
  if (!every) return;
  const status = document.querySelector("main .status");
  const url = new URL(window.location.href);
  url.searchParams.set("part", "figures");
  const refresh = async () => {
    try {
      const answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (answer.ok) {
        const html = await answer.text();
        if (html !== figures.innerHTML) {
          figures.innerHTML = html;
          if (status) {
            const now = new Date();
            status.textContent = "Tallene er opdateret kl. " +
              now.toLocaleTimeString("da-DK", { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Copenhagen" }) + ".";
          }
        }
      } else if (answer.status === 401) {
        window.location.assign("/dashboard/sign-in");
        return;
      }
    } catch (_) {
      // The server is away for a moment: try again at the next turn.
    }
    window.setTimeout(refresh, every);
  };
  window.setTimeout(refresh, every);
})();
