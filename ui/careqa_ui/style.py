"""Theme, CSS and the small page scripts; fonts come from Gradio's own bundled files."""
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
        layout_gap="10px",
    )


CSS = """
.gradio-container { max-width: 1320px !important; width: 100% !important; margin: 0 auto;
  overflow: clip !important; }  /* clip, not hidden: a hidden overflow would stop the sticky question box */
#brand { display: flex; flex-wrap: wrap; align-items: baseline; gap: 2px 12px; padding: 0 2px; }
#brand h1 { font-size: 1.35rem; font-weight: 700; margin: 0; letter-spacing: -0.01em; color: #1c1917; }
#brand p { margin: 0; color: #78716c; font-size: 0.92rem; }
p.covered { margin: 2px 2px 0; color: #57534e; font-size: 0.88rem; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
p.covered b { color: #44403c; }
/* the conversation */
.conv { position: relative; max-height: calc(100vh - 330px); min-height: 150px; overflow-y: auto;
  padding: 4px 10px 4px 2px; font-size: 1.02rem; line-height: 1.6; color: #1c1917; overflow-wrap: anywhere; }
.conv.empty { color: #57534e; min-height: 0; }
.conv.empty p { margin: 4px 0 10px; }
.examples { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.examples span { color: #78716c; font-size: 0.85rem; margin-right: 2px; }
button.example { border: 1px solid #99f6e4; background: #f0fdfa; color: #115e59; border-radius: 999px;
  padding: 3px 12px; font-size: 0.9rem; cursor: pointer; text-align: left; }
button.example:hover { background: #ccfbf1; }
.turn { padding: 8px 0 10px; border-bottom: 1px solid #f5f5f4; }
.turn .q { font-weight: 700; margin: 0 0 4px; color: #0f172a; }
.turn .rewritten { margin: -2px 0 6px; color: #78716c; font-size: 0.9rem; font-style: italic; }
.turn .a p { margin: 0 0 0.55em; }
.turn .a ul.items { margin: 0 0 0.6em 1.2em; padding: 0; list-style: disc; }
.turn .a ul.items li { margin: 0 0 0.3em; }
.turn .a h4.entity { font-size: 0.98rem; margin: 0.6em 0 0.2em; color: #134e4a; }
.turn .a p.note { color: #78716c; font-style: italic; }
.turn .abstained strong { color: #9a3412; }
.turn .a p.by { font-size: 0.85rem; line-height: 1.45; margin: 0 0 0.4em; color: #57534e; }
.turn .a p.by.model { color: #115e59; }
.turn .a p.by.model .note { color: #78716c; }
.turn .a p.by.fallback { color: #9a3412; background: #fff7ed; border-left: 3px solid #fdba74; padding: 3px 8px;
  border-radius: 0 6px 6px 0; }
.turn .a p.by.drafting { color: #78716c; font-style: italic; }
.turn .a p.draft { white-space: pre-wrap; color: #44403c; }
.turn .a .waiting { color: #a8a29e; }
.model-info { margin: 0; font-size: 0.88rem; color: #57534e; overflow-wrap: anywhere; }
.model-info code { font-size: 0.8rem; background: #f5f5f4; padding: 0 4px; border-radius: 4px; }
.turn .hint, .filters { color: #a8a29e; font-size: 0.82rem; margin: 0.2em 0 0; }
.turn .actions { display: flex; flex-wrap: wrap; gap: 4px 12px; margin-top: 4px; }
.turn .actions button { background: none; border: none; padding: 0; color: #0f766e; font-size: 0.85rem;
  cursor: pointer; text-decoration: underline; text-underline-offset: 2px; }
button.cite { display: inline-block; min-width: 1.55em; padding: 0 0.35em; margin: 0 1px; border: none;
  border-radius: 6px; background: #ccfbf1; color: #115e59; font-size: 0.8em; font-weight: 700; line-height: 1.5;
  text-align: center; vertical-align: 0.1em; cursor: pointer; }
button.cite:hover { background: #0f766e; color: #fff; }
span.cite { color: #115e59; font-weight: 700; }
#ask-row { align-items: stretch; }
#filter-row { align-items: center; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; min-height: 30px; }
.chips .none { color: #a8a29e; font-size: 0.85rem; }
.chip { display: inline-flex; align-items: center; max-width: 100%; border-radius: 999px; background: #e0f2fe;
  color: #0c4a6e; font-size: 0.85rem; padding: 2px 4px 2px 10px; }
.chip .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.chip button.x { border: none; background: none; color: #0c4a6e; font-size: 1.05rem; line-height: 1;
  padding: 0 6px; cursor: pointer; }
/* sources, scores and the viewer */
.sources h4, .viewer .kicker { font-size: 0.75rem; letter-spacing: 0.08em; text-transform: uppercase;
  color: #78716c; margin: 0 0 6px; font-weight: 700; }
.sources.empty, .viewer.empty { color: #78716c; font-size: 0.92rem; padding: 2px; }
.sources.empty p, .viewer.empty p { margin: 0; }
p.note { color: #78716c; font-size: 0.88rem; margin: 0 0 8px; }
button.card { display: grid; width: 100%; text-align: left; grid-template-columns: auto 1fr; gap: 10px;
  align-items: start; padding: 8px 12px; margin-bottom: 6px; border: 1px solid #e7e5e4; border-radius: 10px;
  background: #fff; color: inherit; font: inherit; cursor: pointer; }
button.card:hover { border-color: #5eead4; background: #f0fdfa; }
button.card.selected { border-color: #0f766e; background: #f0fdfa; box-shadow: inset 3px 0 0 #0f766e; }
button.card .n { min-width: 1.7em; height: 1.7em; border-radius: 6px; background: #ccfbf1; color: #115e59;
  font-weight: 700; font-size: 0.85rem; display: flex; align-items: center; justify-content: center; }
button.card .body { display: flex; flex-direction: column; gap: 1px; min-width: 0; }
button.card .title { font-weight: 700; color: #1c1917; line-height: 1.3; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
button.card .meta, table.scores .meta { color: #78716c; font-size: 0.85rem; }
button.card .quote { color: #44403c; font-size: 0.9rem; line-height: 1.45; margin-top: 2px; display: -webkit-box;
  -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
table.scores { width: 100%; table-layout: fixed; border-collapse: collapse; font-size: 0.88rem; }
table.scores th { text-align: left; color: #78716c; font-weight: 700; border-bottom: 1px solid #e7e5e4; padding: 4px 6px; }
table.scores th:nth-child(1) { width: 3.4em; } table.scores th:nth-child(3) { width: 28%; }
table.scores th:nth-child(4) { width: 3.6em; }
table.scores td { border-bottom: 1px solid #f5f5f4; padding: 5px 6px; vertical-align: top; overflow-wrap: anywhere; }
button.link { background: none; border: none; padding: 0; font: inherit; color: #0f766e; cursor: pointer;
  text-align: left; text-decoration: underline; text-underline-offset: 2px; }
a.link { color: #0f766e; text-underline-offset: 2px; }
.bar { display: block; height: 8px; margin-top: 6px; border-radius: 4px; background: #f5f5f4; overflow: hidden; }
.bar span { display: block; height: 100%; background: #14b8a6; }
.viewer header { border-bottom: 1px solid #e7e5e4; padding-bottom: 6px; margin-bottom: 4px; }
.viewer h3 { font-size: 1rem; margin: 0 0 2px; line-height: 1.35; color: #1c1917; display: -webkit-box;
  -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
.viewer .meta { color: #78716c; font-size: 0.85rem; overflow-wrap: anywhere; }
.viewer .links { display: flex; flex-wrap: wrap; align-items: baseline; gap: 2px 14px; margin-top: 4px;
  font-size: 0.88rem; line-height: 1.5; }
.viewer code { font-size: 0.8rem; background: #f5f5f4; padding: 0 4px; border-radius: 4px; }
.viewer .doc { position: relative; height: clamp(220px, calc(100vh - 460px), 640px); overflow-y: auto;
  white-space: pre-wrap; overflow-wrap: anywhere; font-size: 1rem; line-height: 1.65; color: #57534e;
  padding: 8px 6px 8px 2px; }
.viewer .doc strong { color: #1c1917; }
.viewer .passage { color: #1c1917; background: #f0fdfa; box-decoration-break: clone; -webkit-box-decoration-break: clone; }
.viewer mark { background: #fdeaa0; color: #1c1917; padding: 1px 0; border-radius: 2px; }
.viewer mark.current { background: #fbbf24; box-shadow: 0 0 0 2px #fbbf24; }
.viewer .gap { color: #a8a29e; font-style: italic; font-size: 0.85rem; margin: 4px 0; white-space: normal; }
.viewer.full { position: fixed; inset: 0; z-index: 1000; background: #faf9f7; display: flex; flex-direction: column;
  padding: 12px max(16px, calc((100vw - 920px) / 2)); }
.viewer.full .doc { flex: 1; height: auto; background: #fff; border: 1px solid #e7e5e4; border-radius: 8px;
  padding: 12px 16px; }
html.careqa-reading, html.careqa-reading body { overflow: hidden; }
/* the corpus and status tabs */
#corpus-log ul { margin: 4px 0 4px 1.2em; padding: 0; }
.rebuild label { display: block; font-size: 0.9rem; color: #44403c; margin-bottom: 4px; }
.rebuild progress { width: 100%; height: 12px; appearance: none; -webkit-appearance: none; border: none;
  border-radius: 6px; background: #e7e5e4; overflow: hidden; }
.rebuild progress::-webkit-progress-bar { background: #e7e5e4; border-radius: 6px; }
.rebuild progress::-webkit-progress-value { background: #0f766e; border-radius: 6px; }
.rebuild progress::-moz-progress-bar { background: #0f766e; }
.summary p { margin: 0 0 4px; }
table.status { border-collapse: collapse; width: 100%; border: none; }
table.status th, table.status td { text-align: left; padding: 5px 8px; border: none; border-bottom: 1px solid #e7e5e4;
  vertical-align: top; overflow-wrap: anywhere; }
table.status th { color: #78716c; width: 11em; font-weight: 700; }
#documents * { font-family: var(--font) !important; font-size: 0.92rem; }
#download { display: none !important; }
footer { display: none !important; }
button.cite, button.card, button.example, button.link, .chip button.x, .turn .actions button { box-shadow: none; }
@media (max-width: 640px) {
  p.covered { white-space: normal; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; }
  .conv { max-height: none; min-height: 0; }
  #ask-row { position: sticky; bottom: 0; z-index: 20; background: #faf9f7; padding: 6px 0;
    box-shadow: 0 -6px 8px -6px rgba(0, 0, 0, 0.12); }
  .viewer .doc { height: 60vh; }
  .viewer.full { padding: 8px; }
  /* a phone keeps the title, the file and the passage count of each document */
  #documents th:is(:nth-child(3), :nth-child(4), :nth-child(6)),
  #documents .virtual-row > [role=gridcell]:is(:nth-child(3), :nth-child(4), :nth-child(6)) { display: none; }
}
"""

# One listener for the whole page: a click on any element with data-act becomes that event of
# the conversation component (the latest trigger, in case the component was mounted again),
# except "copy", which copies an answer's Markdown in the page itself.
BRIDGE_JS = """
window.careqaTrigger = trigger;
const ACTIONS = ['cite', 'example', 'export', 'full', 'unfilter'];
const copy = async (button, turn) => {
  const box = document.querySelector(`textarea.md[data-turn="${turn}"]`);
  if (!box) return;
  try {
    await navigator.clipboard.writeText(box.value);
  } catch (err) {
    box.hidden = false; box.select(); document.execCommand('copy'); box.hidden = true;
  }
  const label = button.textContent;
  button.textContent = 'Copied';
  setTimeout(() => { button.textContent = label; }, 1500);
};
if (!window.careqaBridge) {
  window.careqaBridge = true;
  document.addEventListener('click', (e) => {
    const el = e.target.closest('[data-act]');
    if (!el) return;
    e.preventDefault();
    e.stopPropagation();
    if (el.dataset.act === 'copy') copy(el, el.dataset.ref);
    else if (ACTIONS.includes(el.dataset.act)) window.careqaTrigger(el.dataset.act, {ref: el.dataset.ref});
  }, true);
  document.addEventListener('keydown', (e) => {
    const back = document.querySelector('.viewer.full header button.link');
    if (e.key === 'Escape' && back) back.click();
  });
}
let drafting = false;
const toLatest = () => {
  const box = element.querySelector('.conv');
  const turns = element.querySelectorAll('.turn');
  const last = turns[turns.length - 1];
  const writing = !!last && last.classList.contains('drafting');
  const growing = writing && drafting;  // a growing draft: brought into view once, then left where the reader is
  drafting = writing;
  if (!box || !last || growing) return;
  if (getComputedStyle(box).maxHeight !== 'none') {
    box.scrollTop = last.offsetTop - 4;
    return;
  }
  const top = last.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight * 0.6) window.scrollBy(0, top - 12);
};
watch('value', toLatest);
"""

# Keep the sentence clicked (or the first highlight) in view inside the document pane, and
# stop the page behind the full-document reader from scrolling while it is open.
SCROLL_JS = """
const show = () => {
  const reading = !!element.querySelector('.viewer.full');
  document.documentElement.classList.toggle('careqa-reading', reading);
  const box = element.querySelector('.doc');
  const mark = element.querySelector('#hl') || element.querySelector('.passage');
  if (!box || !mark) return;
  box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 4);
  const r = element.getBoundingClientRect();
  if (!reading && (r.top < 0 || r.top > window.innerHeight - 160)) element.scrollIntoView({block: 'start'});
};
watch('value', show);
show();
"""

# An export arrives as a link holding the file; clicking it saves the file.
DOWNLOAD_JS = """
watch('value', () => {
  const a = element.querySelector('a.download');
  if (a) a.click();
});
"""
