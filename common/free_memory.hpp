// Hands the heap's free pages back to the kernel. glibc keeps what was freed in its arenas for
// reuse, and RSS stays at its peak: after loading a configuration with many device profiles (the
// YAML tree, the forms of every value), after many TLS connections go quiet at once (their
// record buffers released, Session::release_tls_buffers) and after a burst of connections closes,
// most of it is whole free pages.
#pragma once

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace leakguard {

inline void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

// The data path says it freed something worth returning; the server's control thread calls
// release_free_memory once a second when someone did (malloc_trim walks every arena under its
// lock: cheap once a second, costly once per connection).
void note_freed_memory();
bool take_freed_memory_note();  // true once after each note_freed_memory()

}  // namespace leakguard
