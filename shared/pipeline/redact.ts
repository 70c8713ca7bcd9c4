export const REDACTED = '[redacted]';

/** Shorter forms would redact ordinary words; a credential that short is not worth hiding anyway. */
const MIN_FORM_CHARS = 8;

/**
 * Removes a credential from text a target sent back (error bodies often echo request headers):
 * the whole header value and the token after its scheme, each verbatim, JSON-escaped, URL-encoded
 * and base64-encoded (also inside a longer base64 text), in any letter case. A form cut off at the
 * end of the text (an excerpt that stops inside the token) is removed too. Redact the full text,
 * then truncate it.
 */
export function redact(text: string, credentials: string | ReadonlyArray<string> | undefined): string {
  const given = (typeof credentials === 'string' ? [credentials] : (credentials ?? [])).filter(Boolean);
  // Longest first, so a form that contains another (of the same or another credential) is removed whole.
  const forms = [...new Set(given.flatMap(credentialForms))].sort((a, b) => b.length - a.length);
  let result = text;
  for (const form of forms) result = replaceAll(result, form);
  return redactCutTail(result, forms);
}

function credentialForms(credential: string): string[] {
  const secrets = new Set([credential, credential.replace(/^\S+\s+/, '')]);
  const basic = /^basic\s+(\S+)$/i.exec(credential)?.[1];
  if (basic) secrets.add(Buffer.from(basic, 'base64').toString('utf8'));
  const forms = new Set<string>();
  for (const secret of secrets) {
    forms.add(secret);
    const json = JSON.stringify(secret).slice(1, -1);
    forms.add(json);
    forms.add(json.replace(/\//g, '\\/'));
    forms.add(encodeURIComponent(secret));
    forms.add(encodeURIComponent(secret).replace(/%20/g, '+'));
    for (const encoded of base64Forms(secret)) forms.add(encoded);
  }
  return [...forms].filter((form) => form === credential || form.length >= MIN_FORM_CHARS);
}

/**
 * The characters base64 (and base64url) writes for `secret` wherever it starts in a longer byte
 * sequence: one run per alignment (0, 1 or 2 bytes before it), without the edge characters that
 * depend on the neighbouring bytes.
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret);
  return [0, 1, 2].flatMap((offset) => {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const first = Math.ceil((offset * 8) / 6);
    const last = Math.floor(((offset + bytes.length) * 8) / 6);
    const run = encoded.slice(first, last);
    return [run, run.replace(/\+/g, '-').replace(/\//g, '_')];
  });
}

function replaceAll(text: string, form: string): string {
  const lowerText = text.toLowerCase();
  const lowerForm = form.toLowerCase();
  if (lowerText.length !== text.length) return caseSensitiveReplace(text, form);
  let result = '';
  let from = 0;
  for (let at = lowerText.indexOf(lowerForm); at !== -1; at = lowerText.indexOf(lowerForm, from)) {
    result += text.slice(from, at) + REDACTED;
    from = at + form.length;
  }
  return result + text.slice(from);
}

/** Lower-casing changed the length (rare non-ASCII): positions would not line up, so match exactly. */
function caseSensitiveReplace(text: string, form: string): string {
  return text.split(form).join(REDACTED);
}

function redactCutTail(text: string, forms: string[]): string {
  const folds = text.toLowerCase().length === text.length;
  const lowerText = folds ? text.toLowerCase() : text;
  for (const form of forms) {
    const lowerForm = folds ? form.toLowerCase() : form;
    for (let length = lowerForm.length - 1; length >= MIN_FORM_CHARS; length -= 1) {
      if (lowerText.endsWith(lowerForm.slice(0, length)))
        return text.slice(0, text.length - length) + REDACTED;
    }
  }
  return text;
}
