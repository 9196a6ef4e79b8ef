/** The one stylesheet, served at /assets/app.css by every runtime (no file system needed). */
export const appCss = `
:root{--bg:#f6f7f9;--card:#fff;--text:#1b1f24;--muted:#5b6570;--line:#e2e5e9;--brand:#1f4fd1;--brand-dark:#173da6;--ok:#137a3a;--warn:#8a5a00;--bad:#b42318;--radius:10px;color-scheme:light}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
a{color:var(--brand)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #8fb0ff;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:8px;z-index:10}
header.site{background:var(--card);border-bottom:1px solid var(--line)}
header.site .bar{max-width:960px;margin:0 auto;padding:12px 16px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
header.site .brand{font-weight:700;text-decoration:none;color:var(--text);font-size:18px;margin-right:auto}
header.site .brand img{height:28px;width:auto;max-width:120px;object-fit:contain;vertical-align:middle;margin-right:8px}
.logo-preview{display:flex;flex-wrap:wrap;align-items:center;gap:16px;margin-bottom:12px}
.logo-preview img{height:56px;width:auto;max-width:100%}
header.site nav{display:flex;gap:14px;align-items:center;flex-wrap:wrap}
header.site nav form{margin:0}
main{max-width:960px;margin:0 auto;padding:24px 16px 48px}
h1{font-size:1.75rem;line-height:1.25;margin:0 0 12px}
h2{font-size:1.25rem;margin:28px 0 10px}
p{margin:0 0 14px}
.muted{color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:20px;margin:0 0 16px}
.grid{display:grid;gap:16px;grid-template-columns:repeat(auto-fill,minmax(260px,1fr))}
.price{font-size:1.25rem;font-weight:700}.charge-notes{font-size:.85rem;white-space:normal}.price del{color:var(--muted);font-weight:400}.price .price-note{display:inline-block;color:var(--muted);font-size:1rem;font-weight:400}
.btn,button{display:inline-flex;align-items:center;justify-content:center;gap:6px;min-height:44px;padding:10px 18px;border-radius:8px;border:1px solid var(--brand);background:var(--brand);color:#fff;font:inherit;font-weight:600;text-decoration:none;cursor:pointer}
.btn:hover,button:hover{background:var(--brand-dark)}
.btn.secondary,button.secondary{background:#fff;color:var(--brand)}
button.link{background:none;border:none;color:var(--brand);padding:0;min-height:0;font-weight:400;text-decoration:underline}
label{display:block;font-weight:600;margin:0 0 6px}
input[type=email],input[type=text],input[type=number],textarea,select{width:100%;max-width:420px;min-height:44px;padding:10px 12px;border:1px solid #b9c0c8;border-radius:8px;font:inherit;background:#fff}
.field{margin:0 0 16px}
table{width:100%;border-collapse:collapse;background:var(--card)}
th,td{text-align:left;padding:10px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.85rem;color:var(--muted);font-weight:600}
.files{list-style:none;padding:0;margin:12px 0 0}
.files li{display:flex;justify-content:space-between;align-items:center;gap:12px;padding:10px 0;border-top:1px solid var(--line);flex-wrap:wrap}
.files .name{font-weight:600;word-break:break-all}
.notice{border-left:4px solid var(--brand);background:#eef3ff;padding:12px 16px;border-radius:6px;margin:0 0 16px}
.notice.ok{border-color:var(--ok);background:#ecf8f0}
.notice.warn{border-color:var(--warn);background:#fff6e5}
.notice.bad{border-color:var(--bad);background:#fdeeee}
pre{white-space:pre-wrap;word-break:break-word;background:#f0f2f5;padding:12px;border-radius:6px;font-size:.9rem}
footer.site{max-width:960px;margin:0 auto;padding:0 16px 32px;color:var(--muted);font-size:.9rem}
/* On a phone the buyer's header is one line: the signed-in address is on the library page. */
@media (max-width:600px){h1{font-size:1.45rem}.card{padding:16px}header.site .bar:not(.wide) .who{display:none}}
main.wide,main.wide+footer.site,header.site .bar.wide{max-width:1200px}
.fine-print{font-size:.85rem}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.admin-nav{display:flex;gap:4px;overflow-x:auto;margin:0 0 20px;padding:0 0 4px;border-bottom:1px solid var(--line)}
.admin-nav a{padding:10px 12px;border-radius:8px 8px 0 0;text-decoration:none;color:var(--muted);white-space:nowrap;font-weight:600}
.admin-nav a[aria-current=page]{color:var(--brand);box-shadow:inset 0 -3px 0 var(--brand)}
.scroll{position:relative;overflow-x:auto;border:1px solid var(--line);border-radius:var(--radius);margin:0 0 16px}
.scroll table{border:0}
table.wide td,table.wide th{white-space:nowrap}
/* A date may take two lines (day, then time and zone) rather than push the row's buttons out of view. */
table.wide td time{white-space:normal}
table.wide td.wrap{white-space:normal;min-width:200px}
.badge{display:inline-block;padding:2px 8px;border-radius:999px;font-size:.8rem;font-weight:600;background:#eef0f3;color:var(--muted)}
.badge.ok{background:#ecf8f0;color:var(--ok)}.badge.warn{background:#fff6e5;color:var(--warn)}.badge.bad{background:#fdeeee;color:var(--bad)}
form.inline{display:inline;margin:0}
button.small,.btn.small{min-height:36px;padding:6px 12px;font-size:.9rem}
.actions{display:flex;gap:8px;flex-wrap:wrap;align-items:center}
.stats{display:grid;gap:12px;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));margin:0 0 16px}
.stat{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:14px 16px}
.stat .value{font-size:1.5rem;font-weight:700;display:block}
.chart{width:100%;height:140px;display:block}
.chart .bar-sales{fill:var(--brand)}.chart .bar-downloads{fill:#7aa0f5}.chart .axis{stroke:var(--line);stroke-width:1}
.chart-dates{display:flex;justify-content:space-between;margin:4px 0 8px;font-size:.8rem;color:var(--muted)}
.row{display:flex;gap:16px;flex-wrap:wrap}.row>.field{flex:1 1 180px}
progress{width:100%;height:14px}
.key::before{content:"";display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px;background:var(--brand)}.key.downloads::before{background:#7aa0f5}
code{font-size:.9em;background:#f0f2f5;padding:1px 4px;border-radius:4px;word-break:break-all}

table.facts th{width:11rem;color:var(--muted);font-size:.9rem}table.facts td{overflow-wrap:anywhere}
@media (max-width:600px){table.facts th,table.facts td{display:block;width:auto;border:0;padding:4px 8px}table.facts td{border-bottom:1px solid var(--line);padding-bottom:10px}}
.inline-form{display:flex;gap:6px;align-items:center;margin:0}.inline-form input[type=text]{width:12rem;min-height:36px;padding:6px 10px}
.actions a[aria-current=page]{font-weight:700;color:var(--text);text-decoration:none}
input.copy{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9rem;max-width:100%}
.licence{margin:20px 0 0;padding:16px 0 0;border-top:1px solid var(--line)}.card>.licence:first-child{margin:0;padding:0;border:0}
.licence h3{font-size:1.05rem;margin:0 0 8px;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.licence-key{display:flex;gap:8px;align-items:center;flex-wrap:wrap;margin:0 0 10px}
.licence-key code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:1rem;padding:8px 10px;letter-spacing:.02em;user-select:all;-webkit-user-select:all}.licence-key code.ended{color:var(--muted)}
.activations .fingerprint{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem;word-break:break-all}.activations form{margin:0}
table.stack td.wrap{min-width:10rem;overflow-wrap:anywhere}
nav.actions,form.actions{margin:0 0 12px}
/* Seller tables (ui.tsx's StackTable) and chrome on a phone: each row a card, every cell under its
   column's label; the section bar scrolls, with a fade that shows there is more; the header takes
   two lines at most, however long the seller's email. */
@media (max-width:720px){
.scroll.stacks{overflow:visible;border:0;border-radius:0}
table.stack,table.stack tbody{display:block;background:none}
table.stack thead{display:block;position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
table.stack tr{display:flex;flex-direction:column;background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:10px 14px;margin:0 0 10px}
table.stack td{display:block;position:relative;padding:3px 0 3px 7rem;border:0;white-space:normal;overflow-wrap:anywhere}
table.stack td::before{content:attr(data-label);position:absolute;left:0;top:5px;width:6.5rem;color:var(--muted);font-size:.85rem;font-weight:600;line-height:1.4}
table.stack td.title{order:-1;padding:0 0 8px;margin:0 0 6px;border-bottom:1px solid var(--line);font-weight:600}
table.stack td.buttons{padding:8px 0 0}
table.stack td.title::before,table.stack td.buttons::before{content:none}
table.stack td.wrap{min-width:0}table.stack td:empty{display:none}
.admin-nav{margin:0 -16px 16px;padding:0 16px 4px;scrollbar-width:none}
.admin-nav::after{content:"";position:sticky;right:0;flex:0 0 40px;background:linear-gradient(to right,rgba(246,247,249,0),var(--bg) 80%);pointer-events:none}
header.site .bar.wide{flex-wrap:nowrap;align-items:baseline;gap:12px;padding:10px 16px}
header.site .bar.wide .brand{flex:0 0 auto;max-width:45%;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
header.site .bar.wide nav{flex:1 1 0;min-width:0;justify-content:flex-end;gap:4px 14px;font-size:.9375rem}
header.site .bar.wide nav form{min-width:0;max-width:100%}
header.site .bar.wide nav button.link{display:block;max-width:100%;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
}
.mail iframe{display:block;width:100%;height:520px;border:1px solid var(--line);border-radius:8px;background:#fff}.mail details{margin-top:12px}
/* Product covers (16:9, their box sized before they load) and Markdown descriptions. */
img.cover{display:block;width:100%;height:auto;aspect-ratio:16/9;object-fit:cover;border-radius:8px;background:#eef0f3;margin:0 0 16px}
.product-card img.card-cover{margin:0 0 12px}
.cover-field{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}.cover-field img.cover{width:240px;max-width:100%;margin:0}
.prose{overflow-wrap:anywhere}.prose>:last-child{margin-bottom:0}
.prose h2{font-size:1.2rem;margin:20px 0 8px}.prose h3,.prose h4,.prose h5,.prose h6{font-size:1.05rem;margin:16px 0 6px}
.prose ul,.prose ol{margin:0 0 14px;padding-left:1.4em}.prose li{margin:2px 0}
.prose blockquote{margin:0 0 14px;padding:2px 0 2px 14px;border-left:3px solid var(--line);color:var(--muted)}
.prose table{display:block;overflow-x:auto;border-collapse:collapse;margin:0 0 14px}.prose th,.prose td{border:1px solid var(--line);padding:6px 10px;text-align:left}
.prose pre code{background:none;padding:0;word-break:normal}
.preview{border:1px dashed var(--line);border-radius:8px;padding:12px 16px;margin:0 0 16px;background:var(--bg)}
.dropzone{border:2px dashed var(--line);border-radius:var(--radius);padding:16px;margin:0 0 12px}.dropzone.over{border-color:var(--brand);background:#eef3ff}
.uploads{list-style:none;padding:0;margin:12px 0 0}.uploads li{display:grid;grid-template-columns:1fr auto;gap:4px 12px;align-items:center;padding:8px 0;border-top:1px solid var(--line)}
.uploads .name{font-weight:600;overflow-wrap:anywhere}.uploads progress{grid-column:1/-1}.uploads .state{grid-column:1/-1;margin:0;font-size:.9rem}
.tracker{list-style:none;padding:0;margin:20px 0}.tracker li{position:relative;padding:0 0 20px 36px;overflow-wrap:anywhere}.tracker li::before{content:"";position:absolute;left:4px;top:4px;width:16px;height:16px;border-radius:50%;border:2px solid var(--line);background:var(--card)}.tracker li:not(:last-child)::after{content:"";position:absolute;left:13px;top:26px;bottom:2px;width:2px;background:var(--line)}.tracker li.done::before{background:var(--ok);border-color:var(--ok)}.tracker li.problem::before{background:var(--bad);border-color:var(--bad)}.tracker li.done:not(:last-child)::after{background:var(--ok)}
`;
