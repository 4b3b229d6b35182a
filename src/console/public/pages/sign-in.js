// Sign in with a bearer token (the same JWTs as the API), or, outside production, as a demo user.
import { session } from '../api.js'
import { html } from '../format.js'

export async function render(main, { query }) {
  const next = query.next && query.next.startsWith('#/') && !query.next.startsWith('#/sign-in') ? query.next : '#/'
  main.innerHTML = html` <h1>Đăng nhập</h1>
    <form class="signin" id="token-form">
      <label for="token">Dán mã truy cập (JWT) do quản trị viên cấp:</label>
      <textarea id="token" name="token" required autocomplete="off" spellcheck="false"></textarea>
      <p><button class="primary" type="submit">Đăng nhập</button></p>
      <p id="token-error" class="error" hidden></p>
    </form>
    <form class="signin" id="demo-form" hidden>
      <h2>Đăng nhập thử (chỉ ngoài môi trường chính thức)</h2>
      <p class="filters">
        <label
          >Vai trò
          <select name="role">
            <option value="supervisor">Lãnh đạo giám sát</option>
            <option value="admin">Quản trị</option>
            <option value="officer">Cán bộ một cửa</option>
          </select>
        </label>
        <label>Cơ quan <input name="agency" value="UBND-XA-DEMO" required /></label>
        <button type="submit">Đăng nhập thử</button>
      </p>
    </form>`.text
  const tokenForm = main.querySelector('#token-form')
  tokenForm.addEventListener('submit', async (e) => {
    e.preventDefault()
    session.token = tokenForm.token.value.trim()
    if (!session.principal) {
      session.token = null
      const box = main.querySelector('#token-error')
      box.textContent = 'Mã truy cập không đúng định dạng JWT'
      box.hidden = false
      return
    }
    location.hash = next
  })
  // The demo sign-in exists only when the server offers it (never in production).
  const settings = await fetch('/console/settings.json').then((r) => r.json())
  if (!settings.devSignIn) return
  const demo = main.querySelector('#demo-form')
  demo.hidden = false
  demo.addEventListener('submit', async (e) => {
    e.preventDefault()
    const res = await fetch('/console/dev-sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ role: demo.role.value, agency: demo.agency.value.trim() }),
    })
    const body = await res.json()
    if (!res.ok) {
      const box = main.querySelector('#token-error')
      box.textContent = body?.error?.message ?? 'Không đăng nhập được'
      box.hidden = false
      return
    }
    session.token = body.token
    location.hash = next
  })
}
