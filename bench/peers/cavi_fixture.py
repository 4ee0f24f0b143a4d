"""Writes test/fixtures/cavi/ap150_*: the first 150 AssociatedPress documents, restricted to the
terms they use (renumbered 1..V in vocabulary order). Run from the repository root:
    python3 bench/peers/cavi_fixture.py [path/to/shared/data/associated-press]"""
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/associated-press"
N = 150
lines = open(f"{src}/ap_triplets.txt").read().split("\n")
vocab = open(f"{src}/ap_vocab.txt").read().split("\n")
trip = [tuple(map(int, l.split())) for l in lines[1:] if l.strip()]
sub = [t for t in trip if t[0] <= N]
terms = sorted({t[1] for t in sub})
remap = {t: i + 1 for i, t in enumerate(terms)}
with open(f"test/fixtures/cavi/ap{N}_triplets.txt", "w") as f:
    f.write(f"{N} {len(terms)} {len(sub)}\n")
    for d, t, c in sub:
        f.write(f"{d} {remap[t]} {c}\n")
with open(f"test/fixtures/cavi/ap{N}_vocab.txt", "w") as f:
    for t in terms:
        f.write(vocab[t - 1] + "\n")
print(N, "documents,", len(terms), "terms,", len(sub), "non-zeros")
