#include "common/free_memory.hpp"

#include <atomic>

namespace leakguard {
namespace {
std::atomic<bool> freed_memory{false};
}

void note_freed_memory() { freed_memory.store(true, std::memory_order_relaxed); }

bool take_freed_memory_note() { return freed_memory.exchange(false, std::memory_order_relaxed); }

}  // namespace leakguard
