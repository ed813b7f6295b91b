// The login page: POST /login {"token"}; the server answers with an
// HttpOnly cookie, and the page goes to the console.
const form = document.getElementById("login-form");
const error = document.getElementById("login-error");

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  error.textContent = "";
  const token = document.getElementById("token").value.trim();
  try {
    const r = await fetch("/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token }),
    });
    if (r.ok) {
      location.replace("/");
      return;
    }
    const body = await r.json().catch(() => ({}));
    error.textContent = body.error || `login failed (${r.status})`;
  } catch (e) {
    error.textContent = `login failed: ${e.message}`;
  }
});
