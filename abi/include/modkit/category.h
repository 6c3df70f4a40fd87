// modkit/category.h - how a host describes a family of callbacks.
//
// A category is a C struct of function pointers ("the callbacks struct", uint32_t struct_size
// first) identified by a string ID such as "modkit.spam_checker", plus this descriptor: a slot
// table saying, for each callback, its name, offset, signature, the minor version that added
// it, and how answers from several modules combine. Hosts define categories; the standard ones
// live in modkit/categories/. Descriptors are static data owned by whoever defines them.
#pragma once

#include "private/macros.h"

MODKIT_EXTERN_C_BEGIN

// How the answers of several modules to one callback combine. Modules are called in config
// order. Before each call the host zero-initialises every output, so 0 is the "no opinion"
// sentinel, with one exception: the bool answer of an ALL_TRUE slot starts true, so a module
// that writes nothing consents rather than denies.
enum {
   MODKIT_COMBINE_FIRST_NON_ZERO = 0, // the first non-zero answer wins; later modules are skipped
   MODKIT_COMBINE_ALL_TRUE = 1,       // every module must answer true; the first false wins
   MODKIT_COMBINE_RUN_ALL = 2,        // every module runs; outputs are ignored (notifications)
   MODKIT_COMBINE_MERGE = 3,          // every module runs; the host merges the outputs
   MODKIT_COMBINE_SINGLE = 4,         // only the first registrant is called
   MODKIT_COMBINE_KEYED = 5,          // the host picks registrants by a key, then first non-zero
   MODKIT_COMBINE_CHAINED = 6,        // first non-zero; if every answer is zero, chain_to runs
};
typedef int32_t modkit_combine;

// What a callback's error status (or an out-of-range answer) does to the dispatch.
enum {
   MODKIT_ON_ERROR_FAIL_OPEN = 0,   // log it and carry on as if the module had no opinion
   MODKIT_ON_ERROR_FAIL_CLOSED = 1, // log it and stop with the category's deny answer
   MODKIT_ON_ERROR_PROPAGATE = 2,   // stop and hand the error to the host's caller
};
typedef int32_t modkit_on_error;

// One callback of a category.
typedef struct modkit_slot_desc {
   const char *name;      // Synapse's callback name, e.g. "check_event_for_spam"
   uint32_t offset;       // offsetof(callbacks struct, this slot)
   uint16_t since_minor;  // the category minor version that added the slot
   uint16_t reserved;     // zero
   // Parameters after (void *user_data, modkit_call *call), in the grammar of
   // docs/signature-grammar.md:
   // "name: type, ..." with types bool i32 u32 i64 u64 f64 str json bytes &struct *out.
   const char *signature;
   modkit_combine combine;
   modkit_on_error on_error;
   const char *chain_to;  // for MODKIT_COMBINE_CHAINED: the slot that runs next; else NULL
   // Largest valid value of the slot's i32 answer (its result enum), or -1 when any value is
   // valid. An answer outside 0..out_max is treated as an error under on_error.
   int32_t out_max;
   uint32_t reserved2;    // zero
} modkit_slot_desc;

// One field of a struct passed by pointer ("&name" in a signature).
typedef struct modkit_field_desc {
   const char *name;
   const char *type; // a scalar type of the signature grammar
   uint32_t offset;
} modkit_field_desc;

// A struct passed by pointer to a category's callbacks.
typedef struct modkit_type_desc {
   const char *name;  // as written after '&' in signatures, e.g. "event"
   uint32_t size;     // sizeof the C struct
   uint32_t field_count;
   const modkit_field_desc *fields;
} modkit_type_desc;

// A category. Published categories only grow: slots are appended (minor + 1); a change to an
// existing slot is a new major, which in practice means a new category ID.
typedef struct modkit_category {
   uint32_t struct_size;     // sizeof(modkit_category)
   uint16_t major;           // category version; registrations must match it exactly
   uint16_t minor;           // count of slot additions since the major
   const char *id;           // e.g. "modkit.spam_checker"
   uint32_t callbacks_size;  // sizeof(the callbacks struct) at this minor
   uint32_t slot_count;
   const modkit_slot_desc *slots;
   uint32_t type_count;
   uint32_t reserved;        // zero
   const modkit_type_desc *types;
} modkit_category;

MODKIT_EXTERN_C_END
