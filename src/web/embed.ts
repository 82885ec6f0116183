/**
 * `<custodian-consent>`: a small vanilla web component a merchant's H5 page embeds to show the
 * consent-based purposes and record the customer's choice against the current policy version.
 *
 * Safe design (docs/privacy-centre.md): the snippet holds no API key. The merchant's server, which
 * knows who the customer is, mints a short-lived embed token for that one subject with its API key
 * (`POST /v1/privacy/embed-tokens`, permission `consent.record`) and writes it into the page as the
 * `token` attribute. The snippet sends it as a bearer token (never a cookie, so no CSRF), and the
 * token can record that subject's consents only, until it expires. An anonymous caller can read the
 * public purposes and nothing else.
 *
 *   <script src="https://vault.example.com/privacy/embed/consent.js" defer></script>
 *   <custodian-consent base="https://vault.example.com" token="…" lang="zh-CN"></custodian-consent>
 */
export const EMBED_SCRIPT = `(() => {
  'use strict';
  const T = {
    'zh-CN': { grant: '同意', withdraw: '撤回同意', on: '已同意', off: '未同意', saved: '已记录', failed: '未能记录，请重试', guardian: '未满 14 周岁：请由父母或其他监护人在隐私中心作出此项同意', policy: '隐私政策' },
    en: { grant: 'Consent', withdraw: 'Withdraw consent', on: 'Consented', off: 'Not consented', saved: 'Recorded', failed: 'Not recorded; try again', guardian: 'Under 14: a parent or guardian gives this consent in the privacy centre', policy: 'Privacy policy' },
  };
  class CustodianConsent extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      this.attachShadow({ mode: 'open' });
      this.render().catch(() => this.message('failed'));
    }
    get base() { return (this.getAttribute('base') || '').replace(/\\/$/, ''); }
    get lang() { return this.getAttribute('lang') === 'en' ? 'en' : 'zh-CN'; }
    t(key) { return T[this.lang][key]; }
    message(key) {
      const status = this.shadowRoot.querySelector('[role=status]');
      if (status) status.textContent = this.t(key);
    }
    async call(path, init, signed) {
      const headers = { accept: 'application/json' };
      const token = this.getAttribute('token');
      if (signed && token) headers.authorization = 'Bearer ' + token;
      if (init && init.body) headers['content-type'] = 'application/json';
      const response = await fetch(this.base + path, { ...init, headers, credentials: 'omit', mode: 'cors' });
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        throw Object.assign(new Error('HTTP ' + response.status), { code: problem.code });
      }
      return response.json();
    }
    async render() {
      const info = await this.call('/privacy/embed/purposes.json?lang=' + encodeURIComponent(this.lang));
      const state = this.getAttribute('token') ? await this.call('/privacy/embed/consents', {}, true) : { purposes: [] };
      const granted = new Set(state.purposes.filter((p) => p.granted).map((p) => p.purpose));
      const root = this.shadowRoot;
      root.textContent = '';
      const style = document.createElement('style');
      style.textContent = ':host{display:block;font:inherit}div.p{display:flex;justify-content:space-between;gap:1rem;align-items:center;padding:.5rem 0;border-top:1px solid #ddd}button{font:inherit;min-height:2.75rem;padding:.4rem .9rem;border-radius:.4rem;border:1px solid #1f3a5f;background:#1f3a5f;color:#fff}button[aria-checked=true]{background:#fff;color:#1f3a5f}';
      root.append(style);
      for (const p of info.purposes) {
        const row = document.createElement('div');
        row.className = 'p';
        const text = document.createElement('div');
        const name = document.createElement('strong');
        name.textContent = p.name;
        const desc = document.createElement('div');
        desc.textContent = p.description || '';
        text.append(name, desc);
        const button = document.createElement('button');
        button.type = 'button';
        button.setAttribute('role', 'switch');
        button.dataset.purpose = p.id;
        const paint = (on) => {
          button.setAttribute('aria-checked', on ? 'true' : 'false');
          button.textContent = on ? this.t('withdraw') : this.t('grant');
          button.setAttribute('aria-label', p.name + ': ' + (on ? this.t('on') : this.t('off')));
        };
        paint(granted.has(p.id));
        button.disabled = !this.getAttribute('token');
        button.addEventListener('click', async () => {
          const on = button.getAttribute('aria-checked') === 'true';
          button.disabled = true;
          try {
            const out = await this.call('/privacy/embed/consents', {
              method: 'POST',
              body: JSON.stringify({ purpose: p.id, action: on ? 'withdraw' : 'grant', policyVersion: info.policyVersion, locale: this.lang }),
            }, true);
            paint(!on);
            this.message('saved');
            this.dispatchEvent(new CustomEvent('custodian-consent', { detail: { purpose: p.id, action: on ? 'withdraw' : 'grant', receipt: out.receipt }, bubbles: true }));
          } catch (error) {
            // R3: a child's grant needs a parent or guardian, which the centre asks for; the snippet cannot.
            this.message(error && error.code === 'ERR_CONSENT_GUARDIAN_REQUIRED' ? 'guardian' : 'failed');
          } finally {
            button.disabled = false;
          }
        });
        row.append(text, button);
        root.append(row);
      }
      const status = document.createElement('p');
      status.setAttribute('role', 'status');
      const link = document.createElement('a');
      link.href = this.base + '/privacy/policy?version=' + info.policyVersion + '&lang=' + this.lang;
      link.textContent = this.t('policy') + ' v' + info.policyVersion;
      root.append(status, link);
    }
  }
  if (!customElements.get('custodian-consent')) customElements.define('custodian-consent', CustodianConsent);
})();
`;
