// modkit_bench.cpp - modkit against its floors, measured in one run (see docs/benchmarks.md).
//
// Linked into one binary with invoke_bench.cpp, so every benchmark runs in the same process
// and the same interleaved repetitions. The rows, each with its in-run reference:
//   BM_raw_loop_{first,all}/N      a std::vector<{fn, user_data}> loop over N callbacks in N
//                                  distinct dlopened modules (bench_d00..bench_d15): the floor
//   BM_dispatch_{first,all}/N      the same callbacks through the registry: modkit::Slot and
//                                  modkit::first_non_zero / modkit::run_all
//   BM_guarded_{first,all}/N       the same inside a modkit::ReadGuard (the loader's epoch read
//                                  section) while another thread waits, ready to reload a module
//   BM_metered_{first,all}/N       the guarded dispatch with every call counted in the loader's
//                                  per-callback metrics (ReadGuard::metered)
//   BM_map_find / BM_cached_hit_*  std::unordered_map<std::string, int>::find with a 20-byte key
//                                  against a modkit::cached hit with the same key
//   BM_raw_dlopen_cycle            dlopen(RTLD_NOW | RTLD_LOCAL) + dlsym + dlclose of one module
//   BM_loader_cycle                the loader's whole pipeline on that file, then unload
//   BM_boost_dll_cycle, BM_poco_cycle, BM_*_call   Boost.DLL and Poco::SharedLibrary (when built)
//   BM_raw_startup_100 / BM_loader_startup_100      100 distinct modules (bench_m000..bench_m099)
//   BM_resident_memory             resident memory per module, measured in child processes
//   BM_elf_read_facts              the ELF reader over 1,000 distinct module files, per file,
//                                  against BM_raw_dlopen_cycle_1000 over the same files
//   BM_cli_inspect_1000            `modkit inspect` over those files, when the CLI was built
//   BM_chat_host_send/N            the chat host under wrk with N spam-checker modules
//                                  (bench/chat_host_rps.py, kept-alive connections), as counters
//   BM_chat_host_sync_fanout       one message to 500 long-polling /sync clients
//                                  (bench/chat_host_sync_fanout.py), as counters
// allocs_per_iter counts heap allocations inside the timed loop (global operator new below).
#include "allocation_counter.hpp"
#include "elf/elf_facts.hpp"

#include <modkit/categories/spam_checker.h>
#include <modkit/dispatch.hpp>
#include <modkit/loader.h>
#include <modkit/loader.hpp>
#include <modkit/sdk/cached.hpp>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#ifdef MODKIT_BENCH_BOOST
#include <boost/dll/shared_library.hpp>
#endif
#ifdef MODKIT_BENCH_POCO
#include <Poco/SharedLibrary.h>
#endif

#include <array>
#include <chrono>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <memory>
#include <mutex>
#include <new>
#include <spawn.h>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

extern char **environ;


namespace {

[[noreturn]] void die(const std::string &why) {
   std::fprintf(stderr, "modkit_bench: %s\n", why.c_str());
   std::exit(1);
}

void quiet(void *, modkit_log_level, const char *, modkit_str) {}

std::string module_name(const char *prefix, int i, int width) {
   char buf[32];
   std::snprintf(buf, sizeof buf, "%s%0*d", prefix, width, i);
   return buf;
}
std::string dispatch_name(int i) { return module_name("bench_d", i, 2); }
std::string startup_name(int i) { return module_name("bench_m", i, 3); }
std::string module_file(const std::string &name) { return std::string(MODKIT_BENCH_MODULE_DIR) + "/" + name + ".so"; }

std::string config_for(const std::vector<std::string> &names) {
   std::string c = std::string("{\"module_path\": [\"") + MODKIT_BENCH_MODULE_DIR + "\"], \"modules\": [";
   for (size_t i = 0; i < names.size(); ++i) c += (i ? ", " : "") + ("{\"module\": \"" + names[i] + "\", \"config\": {}}");
   return c + "]}";
}

modkit_loader *create_loader() {
   const modkit_category *categories[] = {modkit_spam_checker_category()};
   modkit_loader_options o{};
   o.struct_size = sizeof o;
   o.categories = categories;
   o.category_count = 1;
   o.log = quiet;
   modkit_loader *loader = nullptr;
   if (modkit_loader_create(&o, &loader) != MODKIT_OK) die("cannot create the loader");
   return loader;
}

bool load(modkit_loader *loader, const std::string &config) {
   return modkit_loader_load(loader, config.data(), config.size()) == MODKIT_OK;
}

void load_or_die(modkit_loader *loader, const std::string &config) {
   if (!load(loader, config))
      die(modkit_loader_error_count(loader) ? modkit_loader_error_at(loader, 0)->text : "load failed");
}

// ---- dispatch: N callbacks in N distinct modules ----

constexpr auto kCheck = &modkit_spam_checker_callbacks::check_event_for_spam;
using CheckSlot = modkit::Slot<kCheck>;
using CheckFn = CheckSlot::fn_type;

struct Event {
   const std::string sender = "@alice:example.org", room = "!room:example.org", content = "{\"body\":\"hello\"}";
   modkit_event event{};
   modkit_call call = modkit_call_make({"bench", 5});
   Event() {
      event.struct_size = sizeof event;
      event.event_id = {"$ev", 3};
      event.room_id = {room.data(), room.size()};
      event.sender = {sender.data(), sender.size()};
      event.type = {"m.room.message", 14};
      event.content_json = {content.data(), content.size()};
   }
};

struct DispatchHost {
   std::unique_ptr<modkit::Loader> loader;
   struct Callback {
      CheckFn fn;
      void *user_data;
   };
   std::vector<Callback> raw; // the reference: the same callbacks, copied out once
   modkit::SlotRef ref{};
   Event ev;

   explicit DispatchHost(int n) {
      modkit::Loader::Options o;
      o.categories = {modkit_spam_checker_category()};
      o.log = [](modkit_log_level, const char *, std::string_view) {};
      loader = std::make_unique<modkit::Loader>(std::move(o));
      std::vector<std::string> names;
      for (int i = 0; i < n; ++i) names.push_back(dispatch_name(i));
      loader->load(config_for(names));
      auto slot = loader->slot<kCheck>(MODKIT_SPAM_CHECKER_ID);
      if (slot.size() != static_cast<size_t>(n)) die("wrong number of registrants");
      for (const auto &e : slot) raw.push_back({CheckSlot::fn(e), e.user_data});
      ref = loader->slot_ref<kCheck>(MODKIT_SPAM_CHECKER_ID);
   }

   static DispatchHost &get(int n) {
      static DispatchHost h1(1), h4(4), h16(16);
      return n == 1 ? h1 : n == 4 ? h4 : h16;
   }
};

void BM_raw_loop_first(benchmark::State &state) {
   DispatchHost &h = DispatchHost::get(static_cast<int>(state.range(0)));
   Allocs allocs(state);
   for (auto _ : state) {
      modkit_spam_result answer = MODKIT_NOT_SPAM;
      for (const auto &cb : h.raw) {
         modkit_spam_result r = MODKIT_NOT_SPAM;
         if (cb.fn(cb.user_data, &h.ev.call, &h.ev.event, &r) != MODKIT_OK) continue;
         if (r != MODKIT_NOT_SPAM) {
            answer = r;
            break;
         }
      }
      benchmark::DoNotOptimize(answer);
   }
}

void BM_raw_loop_all(benchmark::State &state) {
   DispatchHost &h = DispatchHost::get(static_cast<int>(state.range(0)));
   Allocs allocs(state);
   for (auto _ : state) {
      int failed = 0;
      for (const auto &cb : h.raw) {
         modkit_spam_result r = MODKIT_NOT_SPAM;
         failed += cb.fn(cb.user_data, &h.ev.call, &h.ev.event, &r) != MODKIT_OK;
      }
      benchmark::DoNotOptimize(failed);
   }
}

template <class Slotish>
modkit::Outcome dispatch_first(const Slotish &slot, DispatchHost &h, modkit_spam_result &answer) {
   return modkit::first_non_zero(slot.raw(), answer, [&](const modkit_loader_entry &e, modkit_spam_result *out) {
      return CheckSlot::fn(e)(e.user_data, &h.ev.call, &h.ev.event, out);
   });
}

template <class Slotish>
modkit::Outcome dispatch_all(const Slotish &slot, DispatchHost &h) {
   return modkit::run_all(slot.raw(), [&](const modkit_loader_entry &e) {
      modkit_spam_result r = MODKIT_NOT_SPAM;
      return CheckSlot::fn(e)(e.user_data, &h.ev.call, &h.ev.event, &r);
   });
}

void BM_dispatch_first(benchmark::State &state) {
   DispatchHost &h = DispatchHost::get(static_cast<int>(state.range(0)));
   const auto slot = h.loader->slot<kCheck>(MODKIT_SPAM_CHECKER_ID);
   Allocs allocs(state);
   for (auto _ : state) {
      modkit_spam_result answer = MODKIT_NOT_SPAM;
      benchmark::DoNotOptimize(dispatch_first(slot, h, answer));
      benchmark::DoNotOptimize(answer);
   }
}

void BM_dispatch_all(benchmark::State &state) {
   DispatchHost &h = DispatchHost::get(static_cast<int>(state.range(0)));
   const auto slot = h.loader->slot<kCheck>(MODKIT_SPAM_CHECKER_ID);
   Allocs allocs(state);
   for (auto _ : state) benchmark::DoNotOptimize(dispatch_all(slot, h));
}

// Another thread with the loader in hand, blocked until told to reload bench_d00; it reloads
// after the timed loop, so each run also checks that a reload completes next to a reader.
class Reloader {
public:
   explicit Reloader(modkit::Loader &loader) : thread_([this, &loader] {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return go_; });
      lock.unlock();
      loader.reload_module("bench_d00");
   }) {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] { return ready_; });
   }
   ~Reloader() {
      {
         std::lock_guard<std::mutex> lock(mutex_);
         go_ = true;
      }
      cv_.notify_all();
      thread_.join();
   }

private:
   std::mutex mutex_;
   std::condition_variable cv_;
   bool ready_ = false, go_ = false;
   std::thread thread_;
};

// The dispatches in a read section, each call counted in the loader's metrics when Metered.
template <bool Metered, class Invoke>
auto maybe_metered(const modkit::ReadGuard &guard, Invoke &&invoke) {
   if constexpr (Metered) return guard.metered(std::forward<Invoke>(invoke));
   else return std::forward<Invoke>(invoke);
}

template <bool Metered>
void guarded_first(benchmark::State &state) {
   DispatchHost &h = DispatchHost::get(static_cast<int>(state.range(0)));
   modkit_loader_reader *reader = h.loader->reader();
   Reloader reloader(*h.loader);
   {
      Allocs allocs(state);
      for (auto _ : state) {
         modkit::ReadGuard guard(reader);
         const auto slot = guard.slot<kCheck>(h.ref);
         modkit_spam_result answer = MODKIT_NOT_SPAM;
         benchmark::DoNotOptimize(modkit::first_non_zero(
            slot.raw(), answer, maybe_metered<Metered>(guard, [&](const modkit_loader_entry &e, modkit_spam_result *out) {
               return CheckSlot::fn(e)(e.user_data, &h.ev.call, &h.ev.event, out);
            })));
         benchmark::DoNotOptimize(answer);
      }
   }
}

template <bool Metered>
void guarded_all(benchmark::State &state) {
   DispatchHost &h = DispatchHost::get(static_cast<int>(state.range(0)));
   modkit_loader_reader *reader = h.loader->reader();
   Reloader reloader(*h.loader);
   {
      Allocs allocs(state);
      for (auto _ : state) {
         modkit::ReadGuard guard(reader);
         const auto slot = guard.slot<kCheck>(h.ref);
         benchmark::DoNotOptimize(modkit::run_all(slot.raw(), maybe_metered<Metered>(guard, [&](const modkit_loader_entry &e) {
            modkit_spam_result r = MODKIT_NOT_SPAM;
            return CheckSlot::fn(e)(e.user_data, &h.ev.call, &h.ev.event, &r);
         })));
      }
   }
}

void BM_guarded_first(benchmark::State &state) { guarded_first<false>(state); }
void BM_guarded_all(benchmark::State &state) { guarded_all<false>(state); }
void BM_metered_first(benchmark::State &state) { guarded_first<true>(state); }
void BM_metered_all(benchmark::State &state) { guarded_all<true>(state); }

BENCHMARK(BM_raw_loop_first)->Arg(1)->Arg(4)->Arg(16);
BENCHMARK(BM_raw_loop_all)->Arg(1)->Arg(4)->Arg(16);
BENCHMARK(BM_dispatch_first)->Arg(1)->Arg(4)->Arg(16);
BENCHMARK(BM_dispatch_all)->Arg(1)->Arg(4)->Arg(16);
BENCHMARK(BM_guarded_first)->Arg(1)->Arg(4)->Arg(16);
BENCHMARK(BM_guarded_all)->Arg(1)->Arg(4)->Arg(16);
BENCHMARK(BM_metered_first)->Arg(1)->Arg(4)->Arg(16);
BENCHMARK(BM_metered_all)->Arg(1)->Arg(4)->Arg(16);

// ---- a cached hit against unordered_map::find, 20-byte keys, 1,000 entries ----

std::string key20(int i) {
   std::string k = module_name("@user", i, 5) + ":example.o"; // 5 + 5 + 10 = 20 bytes
   if (k.size() != 20) die("key is not 20 bytes");
   return k;
}

void BM_map_find(benchmark::State &state) {
   std::unordered_map<std::string, int> map;
   for (int i = 0; i < 1000; ++i) map.emplace(key20(i), i);
   const std::string key = key20(500);
   Allocs allocs(state);
   for (auto _ : state) {
      benchmark::DoNotOptimize(key.data());
      auto it = map.find(key);
      benchmark::DoNotOptimize(it->second);
   }
}

// The natural signature: a string_view argument (the cache keys it as a std::string).
void BM_cached_hit_string(benchmark::State &state) {
   modkit::cached<int(std::string_view)> cache(modkit::CacheOptions{}, [](std::string_view k) {
      return static_cast<int>(k.size());
   });
   for (int i = 0; i < 1000; ++i) cache(key20(i));
   const std::string key = key20(500);
   const std::string_view view = key;
   Allocs allocs(state);
   for (auto _ : state) {
      benchmark::DoNotOptimize(view.data());
      benchmark::DoNotOptimize(cache(view));
   }
}

// The same 20 bytes as a fixed-size key, which the cache copies without the heap.
void BM_cached_hit_array(benchmark::State &state) {
   using Key = std::array<char, 20>;
   modkit::cached<int(Key)> cache(modkit::CacheOptions{}, [](Key k) { return static_cast<int>(k[0]); });
   auto to_key = [](const std::string &s) {
      Key k{};
      std::memcpy(k.data(), s.data(), k.size());
      return k;
   };
   for (int i = 0; i < 1000; ++i) cache(to_key(key20(i)));
   const Key key = to_key(key20(500));
   Allocs allocs(state);
   for (auto _ : state) {
      benchmark::DoNotOptimize(key.data());
      benchmark::DoNotOptimize(cache(key));
   }
}

BENCHMARK(BM_map_find);
BENCHMARK(BM_cached_hit_string);
BENCHMARK(BM_cached_hit_array);

// ---- load cycles ----

using EntryFn = const modkit_module *(*)(std::uint16_t, std::uint16_t);

void check_unmapped(const std::string &file) {
   if (void *h = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD)) {
      dlclose(h);
      die(file + " is still mapped after its cycle: the benchmark would not measure a load");
   }
}

void BM_raw_dlopen_cycle(benchmark::State &state) {
   const std::string file = module_file(startup_name(0));
   for (auto _ : state) {
      void *h = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!h) die(dlerror());
      auto entry = reinterpret_cast<EntryFn>(dlsym(h, "modkit_module_entry"));
      if (!entry) die("no modkit_module_entry");
      benchmark::DoNotOptimize(entry(MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR));
      dlclose(h);
   }
   check_unmapped(file);
}

void BM_loader_cycle(benchmark::State &state) {
   const std::string config = config_for({startup_name(0)});
   for (auto _ : state) {
      modkit_loader *loader = create_loader();
      load_or_die(loader, config);
      modkit_loader_destroy(loader);
   }
   check_unmapped(module_file(startup_name(0)));
}

void BM_raw_call(benchmark::State &state) {
   void *h = dlopen(module_file(startup_name(0)).c_str(), RTLD_NOW | RTLD_LOCAL);
   auto entry = reinterpret_cast<EntryFn>(dlsym(h, "modkit_module_entry"));
   for (auto _ : state) benchmark::DoNotOptimize(entry(MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR));
   dlclose(h);
}

BENCHMARK(BM_raw_dlopen_cycle);
BENCHMARK(BM_loader_cycle);
BENCHMARK(BM_raw_call);

#ifdef MODKIT_BENCH_BOOST
void BM_boost_dll_cycle(benchmark::State &state) {
   const boost::dll::fs::path file(module_file(startup_name(0)));
   for (auto _ : state) {
      boost::dll::shared_library lib(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
      auto &entry = lib.get<const modkit_module *(std::uint16_t, std::uint16_t)>("modkit_module_entry");
      benchmark::DoNotOptimize(entry(MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR));
   }
   check_unmapped(file.string());
}

void BM_boost_dll_call(benchmark::State &state) {
   boost::dll::shared_library lib(module_file(startup_name(0)),
                                  boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
   auto &entry = lib.get<const modkit_module *(std::uint16_t, std::uint16_t)>("modkit_module_entry");
   for (auto _ : state) benchmark::DoNotOptimize(entry(MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR));
}
BENCHMARK(BM_boost_dll_cycle);
BENCHMARK(BM_boost_dll_call);
#endif

#ifdef MODKIT_BENCH_POCO
// Poco 1.11 opens with RTLD_LAZY (it has no RTLD_NOW flag); SHLIB_LOCAL asks for RTLD_LOCAL
// (its default is RTLD_GLOBAL).
void BM_poco_cycle(benchmark::State &state) {
   const std::string file = module_file(startup_name(0));
   for (auto _ : state) {
      Poco::SharedLibrary lib(file, Poco::SharedLibrary::SHLIB_LOCAL);
      auto entry = reinterpret_cast<EntryFn>(lib.getSymbol("modkit_module_entry"));
      benchmark::DoNotOptimize(entry(MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR));
      lib.unload();
   }
   check_unmapped(file);
}

void BM_poco_call(benchmark::State &state) {
   Poco::SharedLibrary lib(module_file(startup_name(0)), Poco::SharedLibrary::SHLIB_LOCAL);
   auto entry = reinterpret_cast<EntryFn>(lib.getSymbol("modkit_module_entry"));
   for (auto _ : state) benchmark::DoNotOptimize(entry(MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR));
   lib.unload();
}
BENCHMARK(BM_poco_cycle);
BENCHMARK(BM_poco_call);
#endif

// ---- 100 distinct modules at startup ----

constexpr int kStartup = 100;

void raw_open(int count, std::vector<void *> &handles) {
   for (int i = 0; i < count; ++i) {
      void *h = dlopen(module_file(startup_name(i)).c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!h) die(dlerror());
      auto entry = reinterpret_cast<EntryFn>(dlsym(h, "modkit_module_entry"));
      if (!entry || !entry(MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR)) die("no modkit_module_entry");
      handles.push_back(h);
   }
}

std::string startup_config(int count) {
   std::vector<std::string> names;
   for (int i = 0; i < count; ++i) names.push_back(startup_name(i));
   return config_for(names);
}

void BM_raw_startup_100(benchmark::State &state) {
   std::vector<void *> handles;
   handles.reserve(kStartup);
   for (auto _ : state) {
      raw_open(kStartup, handles);
      for (void *h : handles) dlclose(h);
      handles.clear();
   }
}

void BM_loader_startup_100(benchmark::State &state) {
   const std::string config = startup_config(kStartup);
   for (auto _ : state) {
      modkit_loader *loader = create_loader();
      load_or_die(loader, config);
      modkit_loader_destroy(loader);
   }
}

BENCHMARK(BM_raw_startup_100)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_loader_startup_100)->Unit(benchmark::kMicrosecond);

// ---- resident memory: a fresh child process per measurement ----

// Runs path with args (argv[0] included) and the environment plus extra_env; returns what it
// wrote to stdout, and its exit status in status (-1 when it did not exit normally).
std::string run_child(const std::string &path, const std::vector<std::string> &args,
                      const std::vector<std::string> &extra_env, int &status) {
   int fds[2];
   if (pipe(fds) != 0) die("pipe");
   posix_spawn_file_actions_t actions;
   posix_spawn_file_actions_init(&actions);
   posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
   posix_spawn_file_actions_addclose(&actions, fds[0]);
   std::vector<std::string> strings(args);
   std::vector<char *> argv, envp;
   for (auto &a : strings) argv.push_back(a.data());
   argv.push_back(nullptr);
   std::vector<std::string> env_strings(extra_env);
   for (auto &e : env_strings) envp.push_back(e.data());
   for (char **e = environ; *e; ++e) envp.push_back(*e);
   envp.push_back(nullptr);
   pid_t pid;
   if (posix_spawnp(&pid, path.c_str(), &actions, nullptr, argv.data(), envp.data()) != 0) die("cannot run " + path);
   posix_spawn_file_actions_destroy(&actions);
   close(fds[1]);
   std::string out;
   char buf[4096];
   for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
   close(fds[0]);
   int wstatus = 0;
   waitpid(pid, &wstatus, 0);
   status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
   return out;
}

// What this process holds: resident memory from /proc/self/smaps_rollup, split into anonymous
// pages (heap, stacks, pages the dynamic linker relocated) and file-backed ones (pages of the
// mapped files that were read), and the bytes malloc has handed out and not had back (the
// dynamic linker's own allocations included).
struct Memory {
   double rss_kib = 0, anon_kib = 0, heap_bytes = 0;
   double file_kib() const { return rss_kib - anon_kib; }
};

Memory memory_now() {
   Memory m;
   if (FILE *f = std::fopen("/proc/self/smaps_rollup", "r")) {
      char line[256];
      long kib = 0;
      while (std::fgets(line, sizeof line, f)) {
         if (std::sscanf(line, "Rss: %ld kB", &kib) == 1) m.rss_kib = static_cast<double>(kib);
         if (std::sscanf(line, "Anonymous: %ld kB", &kib) == 1) m.anon_kib = static_cast<double>(kib);
      }
      std::fclose(f);
   }
   m.heap_bytes = static_cast<double>(mallinfo2().uordblks);
   return m;
}

// In the child: MODKIT_BENCH_RSS=raw:COUNT or loader:COUNT. Prints the growth of resident,
// anonymous (KiB) and heap (bytes) memory from before the first dlopen (the loader created
// first) to after the last module is loaded.
int rss_child(const char *spec) {
   const bool loader_mode = std::strncmp(spec, "loader:", 7) == 0;
   const int count = std::atoi(std::strchr(spec, ':') + 1);
   const std::string config = startup_config(count);
   modkit_loader *loader = loader_mode ? create_loader() : nullptr;
   std::vector<void *> handles;
   handles.reserve(kStartup);
   const Memory before = memory_now();
   if (loader_mode) load_or_die(loader, config);
   else raw_open(count, handles);
   const Memory after = memory_now();
   std::printf("%.0f %.0f %.0f\n", after.rss_kib - before.rss_kib, after.anon_kib - before.anon_kib,
               after.heap_bytes - before.heap_bytes);
   return 0;
}

Memory spawn_memory(const std::string &spec) {
   int status = 0;
   const std::string out = run_child("/proc/self/exe", {"modkit_bench"}, {"MODKIT_BENCH_RSS=" + spec}, status);
   Memory m;
   if (status != 0 || std::sscanf(out.c_str(), "%lf %lf %lf", &m.rss_kib, &m.anon_kib, &m.heap_bytes) != 3)
      die("resident-memory child failed");
   return m;
}

// Per module: the growth from 1 to 100 modules over 99, so fixed costs (the loader's own code
// and first allocations, the dynamic linker's first lookups) drop out. The loader's own cost
// is its figure minus the raw one, in resident memory (all of it, and the file-backed part:
// pages of the modules themselves that the loader reads and a bare dlopen does not) and in
// heap bytes (what the loader allocates and keeps per module).
void BM_resident_memory(benchmark::State &state) {
   Memory raw, full;
   for (auto _ : state) {
      const Memory raw1 = spawn_memory("raw:1"), raw100 = spawn_memory("raw:100");
      const Memory full1 = spawn_memory("loader:1"), full100 = spawn_memory("loader:100");
      auto per_module = [](const Memory &one, const Memory &hundred) {
         constexpr double n = kStartup - 1;
         Memory m;
         m.rss_kib = (hundred.rss_kib - one.rss_kib) / n;
         m.anon_kib = (hundred.anon_kib - one.anon_kib) / n;
         m.heap_bytes = (hundred.heap_bytes - one.heap_bytes) / n;
         return m;
      };
      raw = per_module(raw1, raw100);
      full = per_module(full1, full100);
   }
   state.counters["raw_kib_per_module"] = raw.rss_kib;
   state.counters["loader_kib_per_module"] = full.rss_kib;
   state.counters["loader_own_kib_per_module"] = full.rss_kib - raw.rss_kib;
   state.counters["loader_own_file_kib_per_module"] = full.file_kib() - raw.file_kib();
   state.counters["loader_own_anon_kib_per_module"] = full.anon_kib - raw.anon_kib;
   state.counters["loader_own_heap_kib_per_module"] = (full.heap_bytes - raw.heap_bytes) / 1024;
}
BENCHMARK(BM_resident_memory)->Iterations(1)->Unit(benchmark::kMillisecond);

// ---- the ELF reader over 1,000 distinct module files ----

constexpr int kInspectFiles = 1000;

// 1,000 distinct files: copies of the startup modules under distinct names in a fresh directory.
const std::vector<std::string> &inspect_files() {
   static std::vector<std::string> files = [] {
      char tmpl[] = "/tmp/modkit-bench-XXXXXX";
      if (!mkdtemp(tmpl)) die("mkdtemp");
      std::vector<std::string> out;
      for (int i = 0; i < kInspectFiles; ++i) {
         const std::string from = module_file(startup_name(i % kStartup));
         const std::string to = std::string(tmpl) + "/" + module_name("m", i, 4) + ".so";
         const int in = open(from.c_str(), O_RDONLY), o = open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
         if (in < 0 || o < 0) die("cannot copy " + from);
         char buf[65536];
         for (ssize_t n; (n = read(in, buf, sizeof buf)) > 0;)
            if (write(o, buf, static_cast<size_t>(n)) != n) die("short write");
         close(in);
         close(o);
         out.push_back(to);
      }
      return out;
   }();
   return files;
}

void BM_elf_read_facts(benchmark::State &state) {
   const auto &files = inspect_files();
   size_t i = 0;
   for (auto _ : state) {
      const int fd = open(files[i].c_str(), O_RDONLY | O_CLOEXEC);
      modkit::elf::Facts facts;
      modkit::elf::ParseError error;
      if (fd < 0 || !modkit::elf::read_facts(fd, facts, error)) die("read_facts failed on " + files[i]);
      close(fd);
      benchmark::DoNotOptimize(facts);
      i = (i + 1) % files.size();
   }
   state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// The raw dlopen cycle over the same 1,000 files, for the per-file comparison.
void BM_raw_dlopen_cycle_1000(benchmark::State &state) {
   const auto &files = inspect_files();
   size_t i = 0;
   for (auto _ : state) {
      void *h = dlopen(files[i].c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!h) die(dlerror());
      benchmark::DoNotOptimize(dlsym(h, "modkit_module_entry"));
      dlclose(h);
      i = (i + 1) % files.size();
   }
   state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_elf_read_facts);
BENCHMARK(BM_raw_dlopen_cycle_1000);

// `modkit inspect` (the CLI, when it was built next to this binary) over the same 1,000 files
// in one invocation, output discarded. Its CPU time is the child's (user + system, from wait4),
// reported per file as the counter cli_cpu_ns_per_file, with files_per_second (wall clock).
#ifdef MODKIT_BENCH_CLI
void BM_cli_inspect_1000(benchmark::State &state) {
   if (access(MODKIT_BENCH_CLI, X_OK) != 0) {
      state.SkipWithError("the modkit CLI was not built");
      return;
   }
   const auto &files = inspect_files();
   std::vector<std::string> args_s{MODKIT_BENCH_CLI, "inspect"};
   args_s.insert(args_s.end(), files.begin(), files.end());
   std::vector<char *> args;
   for (auto &a : args_s) args.push_back(a.data());
   args.push_back(nullptr);
   double cpu_ns = 0, wall_ns = 0;
   for (auto _ : state) {
      posix_spawn_file_actions_t actions;
      posix_spawn_file_actions_init(&actions);
      posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
      posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
      const auto start = std::chrono::steady_clock::now();
      pid_t pid;
      if (posix_spawn(&pid, MODKIT_BENCH_CLI, &actions, nullptr, args.data(), environ) != 0) die("posix_spawn");
      posix_spawn_file_actions_destroy(&actions);
      int status = 0;
      struct rusage usage {};
      wait4(pid, &status, 0, &usage);
      wall_ns += static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now() - start).count());
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
         state.SkipWithError("modkit inspect failed");
         return;
      }
      cpu_ns += (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e9 +
                (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e3;
   }
   const double runs = static_cast<double>(state.iterations()) * kInspectFiles;
   state.counters["cli_cpu_ns_per_file"] = cpu_ns / runs;
   state.counters["files_per_second"] = runs / (wall_ns / 1e9);
}
BENCHMARK(BM_cli_inspect_1000)->Unit(benchmark::kMillisecond);
#endif

// The chat host under wrk with N spam-checker modules (bench/chat_host_rps.py: a message send
// per request, for a bounded time, on loopback). One run of the driver per iteration; its
// figures become counters: requests per second, the host's CPU time per request (its own
// user + system time, not wrk's) and wrk's latency percentiles.
#ifdef MODKIT_BENCH_CHAT_HOST
constexpr const char *kChatSeconds = "5";

// Runs the driver with args once per iteration; its single run's figures as counters. False
// (the benchmark skipped) when wrk is missing or the driver failed.
void chat_driver_counters(benchmark::State &state, std::vector<std::string> args) {
   args.insert(args.begin(), {"python3", MODKIT_BENCH_CHAT_DRIVER, "--host", MODKIT_BENCH_CHAT_HOST, "--modules",
                              MODKIT_BENCH_MODULE_DIR, "--seconds", kChatSeconds});
   nlohmann::json run;
   for (auto _ : state) {
      int status = 0;
      const std::string out = run_child("python3", args, {}, status);
      if (status == 2) {
         state.SkipWithError("wrk is not installed (Debian package wrk)");
         return;
      }
      const auto doc = nlohmann::json::parse(out, nullptr, false);
      if (status != 0 || doc.is_discarded() || !doc.contains("runs") || doc["runs"].empty()) {
         state.SkipWithError("bench/chat_host_rps.py failed");
         return;
      }
      run = doc["runs"][0];
   }
   for (const char *key : {"requests_per_second", "server_cpu_us_per_request", "latency_p50_ms", "latency_p99_ms",
                           "modules"})
      state.counters[key] = run[key].is_number() ? run[key].get<double>() : 0.0;
   state.counters["requests"] = run["requests"].get<double>();
}

void BM_chat_host_send(benchmark::State &state) {
   chat_driver_counters(state, {"--counts", std::to_string(state.range(0))});
}
BENCHMARK(BM_chat_host_send)->Arg(0)->Arg(1)->Arg(4)->Arg(16)->Iterations(1)->Unit(benchmark::kMillisecond);

// One message fanned out to 500 long-polling /sync requests (bench/chat_host_sync_fanout.py):
// the time until the last of them has it, over 20 rounds, and what the waiting requests cost
// other clients (a request's latency with and without them) and the host (its threads).
void BM_chat_host_sync_fanout(benchmark::State &state) {
   nlohmann::json run;
   for (auto _ : state) {
      int status = 0;
      const std::string out = run_child("python3", {"python3", MODKIT_BENCH_FANOUT_DRIVER, "--host", MODKIT_BENCH_CHAT_HOST,
                                                    "--clients", "500", "--rounds", "20"}, {}, status);
      run = nlohmann::json::parse(out, nullptr, false);
      if (status != 0 || !run.is_object() || !run.contains("last_p50_ms")) {
         state.SkipWithError("bench/chat_host_sync_fanout.py failed");
         return;
      }
   }
   for (const auto &[key, value] : run.items())
      if (value.is_number()) state.counters[key] = value.get<double>();
}
BENCHMARK(BM_chat_host_sync_fanout)->Iterations(1)->Unit(benchmark::kMillisecond);

#ifdef MODKIT_BENCH_PORT_MODULE_DIR
// The same send with the ported Synapse modules loaded (samples/synapse), http_antispam asking
// a local antispam service about each message; next to BM_chat_host_send/0 in one run.
void BM_chat_host_send_ports(benchmark::State &state) {
   chat_driver_counters(state, {"--counts", "ports", "--port-modules", MODKIT_BENCH_PORT_MODULE_DIR,
                                "--antispam-service", MODKIT_BENCH_ANTISPAM_SERVICE});
}
BENCHMARK(BM_chat_host_send_ports)->Iterations(1)->Unit(benchmark::kMillisecond);
#endif
#endif

} // namespace

int main(int argc, char **argv) {
   if (const char *spec = std::getenv("MODKIT_BENCH_RSS")) return rss_child(spec);
   benchmark::Initialize(&argc, argv);
   if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
   benchmark::RunSpecifiedBenchmarks();
   benchmark::Shutdown();
   return 0;
}
