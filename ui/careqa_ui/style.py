"""Theme, CSS and the two small page scripts; fonts come from Gradio's own bundled files."""
from __future__ import annotations

import gradio as gr


def theme() -> gr.themes.Base:
    """A quiet theme: warm neutrals, one teal accent, locally bundled fonts only.

    Only the regular and bold files Gradio bundles are complete (its semibold ones are small
    subsets), so semibold text falls to bold rather than to a system font."""
    return gr.themes.Soft(
        primary_hue=gr.themes.colors.teal,
        secondary_hue=gr.themes.colors.slate,
        neutral_hue=gr.themes.colors.stone,
        radius_size=gr.themes.sizes.radius_md,
        text_size=gr.themes.sizes.text_md,
        font=(gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif", "system-ui", "sans-serif"),
        font_mono=(gr.themes.LocalFont("IBM Plex Mono", weights=(400, 700)), "ui-monospace", "monospace"),
    ).set(
        body_background_fill="#faf9f7",
        block_background_fill="#ffffff",
        block_border_width="1px",
        block_shadow="none",
        button_primary_shadow="none",
    )


CSS = """
.gradio-container { max-width: 1320px !important; margin: 0 auto; }
#brand { padding: 4px 2px 0; }
#brand h1 { font-size: 1.45rem; font-weight: 600; margin: 0; letter-spacing: -0.01em; color: #1c1917; }
#brand p { margin: 2px 0 0; color: #78716c; font-size: 0.95rem; }
#chat { font-size: 1.02rem; line-height: 1.6; }
#chat .message-content p { margin: 0 0 0.55em; }
a.cite { display: inline-block; min-width: 1.55em; padding: 0 0.35em; margin: 0 1px; border-radius: 6px;
  background: #ccfbf1; color: #115e59 !important; font-size: 0.8em; font-weight: 600; line-height: 1.5;
  text-align: center; text-decoration: none !important; vertical-align: 0.1em; cursor: pointer; }
a.cite:hover { background: #0f766e; color: #fff !important; }
span.cite { color: #115e59; font-weight: 600; }
.filters { display: block; color: #a8a29e; font-size: 0.8rem; margin-top: 0.2em; }
.abstained { font-weight: 600; color: #9a3412; }
.sources h4, .viewer .kicker { font-size: 0.75rem; letter-spacing: 0.08em; text-transform: uppercase;
  color: #78716c; margin: 0 0 8px; font-weight: 600; }
.sources.empty, .viewer.empty { color: #78716c; font-size: 0.95rem; padding: 6px 2px; }
.sources .note, p.note { color: #78716c; font-size: 0.88rem; margin: 0 0 8px; }
a.card { display: grid; text-align: left; grid-template-columns: auto 1fr auto; gap: 10px; align-items: start;
  padding: 10px 12px; margin-bottom: 8px; border: 1px solid #e7e5e4; border-radius: 10px;
  background: #fff; color: inherit !important; text-decoration: none !important;
  transition: border-color .15s, background .15s; }
a.card:hover { border-color: #5eead4; background: #f0fdfa; }
a.card.selected { border-color: #0f766e; background: #f0fdfa; box-shadow: inset 3px 0 0 #0f766e; }
a.card .n { min-width: 1.7em; height: 1.7em; border-radius: 6px; background: #ccfbf1; color: #115e59;
  font-weight: 600; font-size: 0.85rem; display: flex; align-items: center; justify-content: center; }
a.card .body { display: flex; flex-direction: column; gap: 2px; min-width: 0; }
a.card .title { font-weight: 600; color: #1c1917; line-height: 1.3; display: -webkit-box;
  -webkit-line-clamp: 1; -webkit-box-orient: vertical; overflow: hidden; }
a.card .meta, table.scores .meta { color: #78716c; font-size: 0.85rem; }
a.card .quote { color: #44403c; font-size: 0.9rem; line-height: 1.45; margin-top: 3px; display: -webkit-box;
  -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
a.card .score { color: #a8a29e; font-size: 0.8rem; font-variant-numeric: tabular-nums; }
.viewer header { border-bottom: 1px solid #e7e5e4; padding-bottom: 8px; margin-bottom: 4px; }
.viewer h3 { font-size: 1rem; margin: 0 0 2px; line-height: 1.35; color: #1c1917; display: -webkit-box;
  -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
.viewer .meta { color: #78716c; font-size: 0.85rem; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.viewer .meta b { color: #44403c; font-weight: 600; }
.viewer code { font-size: 0.8rem; background: #f5f5f4; padding: 0 4px; border-radius: 4px; }
.viewer .doc { position: relative; height: clamp(260px, calc(100vh - 480px), 640px); overflow-y: auto; white-space: pre-line;
  font-size: 1rem; line-height: 1.65; color: #57534e;
  padding: 8px 6px 8px 2px; }
.viewer .doc strong { color: #1c1917; }
.viewer .passage { color: #1c1917; background: #f0fdfa; box-decoration-break: clone;
  -webkit-box-decoration-break: clone; }
.viewer mark { background: #fdeaa0; color: #1c1917; padding: 1px 0; border-radius: 2px; }
.viewer .gap { color: #a8a29e; font-style: italic; font-size: 0.85rem; margin: 4px 0; }
table.scores { width: 100%; border-collapse: collapse; font-size: 0.88rem; font-variant-numeric: tabular-nums; }
table.scores th { text-align: left; color: #78716c; font-weight: 600; border-bottom: 1px solid #e7e5e4; padding: 4px 6px; }
table.scores td { border-bottom: 1px solid #f5f5f4; padding: 5px 6px; vertical-align: top; }
table.scores a { color: #115e59; text-decoration: none; }
#corpus-log { min-height: 2em; }
#documents * { font-family: var(--font) !important; font-size: 0.92rem; }
footer { display: none !important; }
"""

# Clicks on '#cite-…' links anywhere on the page become one 'cite' event to the server.
BRIDGE_JS = """
if (!window.careqaCiteBound) {
  window.careqaCiteBound = true;
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a[href^="#cite-"]');
    if (!a) return;
    e.preventDefault();
    e.stopPropagation();
    trigger('cite', {ref: a.getAttribute('href').slice(6)});
  }, true);
}
"""

# Keep the first highlighted sentence in view inside the document pane whenever it changes.
SCROLL_JS = """
const show = () => {
  const box = element.querySelector('.doc');
  const mark = element.querySelector('#hl') || element.querySelector('.passage');
  if (!box || !mark) return;
  box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 4);
  const r = element.getBoundingClientRect();
  if (r.top < 0 || r.bottom > window.innerHeight) element.scrollIntoView({block: 'nearest'});
};
watch('value', show);
show();
"""
