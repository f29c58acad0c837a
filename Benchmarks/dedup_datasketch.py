#!/usr/bin/env python3
"""datasketch MinHashLSH on the texts dedup-bench wrote: the usual Python tool for
this job, as a reference. Shingles as feedspool makes them (4 words, lowercase,
punctuation dropped), MinHash with 128 permutations (datasketch's default), LSH
at threshold 0.8; each measured item is queried, then inserted.
Usage: dedup_datasketch.py DIR [--turns N]
With --turns, the measured items are taken in N slices, taking turns with
dedup-bench --turns DIR through the named pipes DIR/to-feedspool and
DIR/to-datasketch (a blocking open on each), so that both measure the machine
in the same state."""
import re, resource, sys, time
from datasketch import MinHash, MinHashLSH

d = sys.argv[1]
def shingles(line):
    words = re.findall(r"\w+", line.lower())
    return {" ".join(words[i:i + 4]).encode() for i in range(max(1, len(words) - 3))}

def sketch(line):
    m = MinHash(num_perm=128)
    m.update_batch(list(shingles(line)))
    return m

lsh = MinHashLSH(threshold=0.8, num_perm=128)
preload = open(d + "/preload.txt", encoding="utf-8").read().splitlines()
measure = open(d + "/measure.txt", encoding="utf-8").read().splitlines()
t = time.perf_counter()
for i, line in enumerate(preload):
    lsh.insert("p%d" % i, sketch(line))
fill = time.perf_counter() - t
print("datasketch: filled %d items in %.1f s (%.0f items/s)" % (len(preload), fill, len(preload) / fill))
turns = int(sys.argv[sys.argv.index("--turns") + 1]) if "--turns" in sys.argv else 0

def hand_over(k):
    with open(d + "/to-feedspool", "w") as pipe:
        pipe.write("%d\n" % k)

def wait_for_turn():
    with open(d + "/to-datasketch") as pipe:
        pipe.read()

found = 0
secs = 0.0
rates = []
slices = max(1, turns)
if turns:
    hand_over(-1)  # filled: dedup-bench measures its first slice
for k in range(slices):
    if turns:
        wait_for_turn()
    lo, hi = len(measure) * k // slices, len(measure) * (k + 1) // slices
    t = time.perf_counter()
    for i in range(lo, hi):
        m = sketch(measure[i])
        if lsh.query(m):
            found += 1
        lsh.insert("m%d" % i, m)
    took = time.perf_counter() - t
    secs += took
    rates.append((hi - lo) / took)
    if turns and k + 1 < slices:
        hand_over(k)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print("datasketch: %d items in %.2f s: %.0f items/s; copies found %d; peak RSS %d MiB" % (len(measure), secs, len(measure) / secs, found, rss))
if turns:
    for k, r in enumerate(rates):
        print("TURN %d datasketch_items_per_s=%.0f" % (k, r))
print("RESULT datasketch_items_per_s=%.0f" % (len(measure) / secs))
