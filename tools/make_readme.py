#!/usr/bin/env python
"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does, without Quarto).

Markdown cells are copied as they are; code cells become ```python blocks, except cells whose
first line is an nbdev directive (`#| hide`, `#| export`, ...). `--check` writes nothing and exits 1
if README.md differs from what would be written (the test command runs it)."""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = '<!-- Generated from nbs/index.ipynb by tools/make_readme.py (`make readme`). Edit the notebook, not this file. -->\n\n'

def render(nb_path=ROOT/'nbs'/'index.ipynb') -> str:
    "README text for the notebook at `nb_path`."
    nb = json.loads(Path(nb_path).read_text(encoding='utf-8'))
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source']).strip()
        if not src: continue
        if c['cell_type'] == 'markdown': parts.append(src)
        elif c['cell_type'] == 'code' and not src.startswith('#|'): parts.append(f'```python\n{src}\n```')
    return HEADER + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text, readme = render(), ROOT/'README.md'
    if '--check' in sys.argv:
        if readme.read_text(encoding='utf-8') != text:
            print('README.md is stale: run `make readme` (tools/make_readme.py) and commit it'); sys.exit(1)
    else: readme.write_text(text, encoding='utf-8'); print(f'wrote {readme}')
