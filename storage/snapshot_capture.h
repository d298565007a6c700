// CaptureDatabase: copies a live Database into a SnapshotWriter while writes go on, holding no
// lock for more than a bounded slice of work.
//
// The image it produces is fuzzy, and that is enough. The caller took the log's snapshot point
// S first, so every change made while the capture runs is logged after S and will be replayed
// over the image at recovery; every WAL effect assigns final values (storage/effects.h), so
// replaying one that the image already holds changes nothing. What the capture must guarantee is
// only that every value that does *not* change during the capture is in the image:
//   - stock counters are read lock-free, one atomic load each;
//   - each shard's strings are copied under that shard's lock, then written with it released
//     (the copy is one shard's strings: 1/64 of them);
//   - a sorted set is copied at most kSnapshotSliceMembers members per lock hold, in ascending
//     (score, member) order, and each slice resumes after the last key copied
//     (SortedSet::SeekAfter). A member that does not move keeps its key, so it falls in exactly
//     one slice; one that moves may be copied twice or not at all, and its logged move puts it
//     right. Each slice is written as one part of the set (snapshot_format.md, "continues").
//     A set deleted between slices ends there; its deletion is logged after S.
//   - the order book is encoded whole under its lock: a cut at one moment, whose cost grows
//     with its size (a later step: slices by user);
//   - the rankings are encoded a slice per hold of their lock: each namespace's header, then
//     per window its entry and, a shard at a time, its event ids and products, per archive a
//     part at a time, each period board whole (Rankings::AppendSnapshotChunks). Their WAL
//     entries assign final values too, so the same argument holds; a weight change logs the
//     weights it replaced, so replay does not take them from the image.
// (Each lock hold counts towards longest_lock_us.)
//
// Thread-safety: runs on any thread alongside the event loops, which keep using the Database.
#pragma once

#include <cstdint>

#include "storage/database.h"
#include "storage/snapshot_writer.h"
#include "storage/status.h"

namespace podium::storage {

struct CaptureStats {
  int64_t longest_lock_us = 0;  // the longest any shard lock was held by the capture
  uint64_t lock_holds = 0;
  uint64_t sliced_sets = 0;  // sets written in more than one part
};

// `writer` must have had Begin() called; CaptureDatabase writes the three sections and leaves
// Finish() to the caller.
Status CaptureDatabase(Database& db, SnapshotWriter& writer, CaptureStats* stats);

}  // namespace podium::storage
