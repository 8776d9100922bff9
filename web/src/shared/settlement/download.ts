/**
 * Downloading a file the server answers only to a signed-in face (a settlement statement's
 * CSV or PDF): fetched with the session cookie and the CSRF header — a plain link cannot
 * send the header, which is what keeps another site from using the cookie — then handed to
 * the browser as a file under the server's name for it.
 */
import { CSRF_HEADERS } from '../session/session';

/** The file name in a Content-Disposition header, else `fallback`. */
export function attachmentName(header: string | null, fallback: string): string {
  const match = /filename="?([^";]+)"?/i.exec(header ?? '');
  const name = match?.[1]?.trim();
  return name && !/[\\/]/.test(name) ? name : fallback;
}

/** A refusal's code (`{"error": "…"}`), or UNKNOWN. */
export async function refusalCode(response: Response): Promise<string> {
  try {
    const body: unknown = await response.json();
    if (typeof body === 'object' && body !== null && 'error' in body) {
      const code = body.error;
      if (typeof code === 'string') return code;
    }
  } catch {
    // not JSON: the code stays unknown
  }
  return 'UNKNOWN';
}

/** Fetch `path` and save it; null when saved, else the refusal's code. */
export async function downloadFile(path: string, fallbackName: string): Promise<string | null> {
  let response: Response;
  try {
    response = await fetch(path, { credentials: 'same-origin', headers: { ...CSRF_HEADERS } });
  } catch {
    return 'HUB_UNAVAILABLE';
  }
  if (!response.ok) return refusalCode(response);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = attachmentName(response.headers.get('content-disposition'), fallbackName);
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken the file once the click is handled.
  setTimeout(() => {
    URL.revokeObjectURL(url);
  }, 1000);
  return null;
}
