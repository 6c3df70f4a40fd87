/* categories_check.c - the categories JSON a host without C headers writes (read from stdin:
 * samples/python_host/host.py --print-categories) must build exactly the descriptors of
 * modkit/categories/spam_checker.h and password_auth_provider.h: same slots in the same order
 * (the callbacks struct is laid out by slot order), offsets, signatures, policies, and the
 * same struct types. Prints each difference, then "N passed, M failed"; exits 1 on any. */
#include <modkit/categories/password_auth_provider.h>
#include <modkit/categories/spam_checker.h>
#include <modkit/loader.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static void check(bool ok, const char *category, const char *what, const char *detail) {
   if (ok) ++passed;
   else {
      ++failed;
      fprintf(stderr, "%s: %s differs%s%s\n", category, what, detail ? ": " : "", detail ? detail : "");
   }
}

static bool same_text(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

static void print_log(void *user_data, modkit_log_level level, const char *module, modkit_str message) {
   (void)user_data, (void)level, (void)module;
   fprintf(stderr, "loader: %.*s\n", (int)message.size, message.data);
}

static void compare(const modkit_loader *loader, const modkit_category *want) {
   const char *id = want->id;
   const modkit_loader_slot *s = NULL;
   if (modkit_loader_slot_at(loader, id, 0, &s) != MODKIT_OK) {
      check(false, id, "presence", "the JSON does not describe it");
      return;
   }
   const modkit_category *got = s->category;
   check(got->major == want->major && got->minor == want->minor, id, "version", NULL);
   check(got->callbacks_size == want->callbacks_size, id, "callbacks_size", NULL);
   check(got->slot_count == want->slot_count, id, "slot_count", NULL);
   for (uint32_t i = 0; i < want->slot_count; ++i) {
      const modkit_slot_desc *w = &want->slots[i];
      if (modkit_loader_slot_at(loader, id, i, &s) != MODKIT_OK) {
         check(false, id, "slot", w->name);
         continue;
      }
      const modkit_slot_desc *g = s->desc;
      check(same_text(g->name, w->name), id, "slot name", w->name);
      check(g->offset == w->offset, id, "slot offset", w->name);
      check(g->since_minor == w->since_minor, id, "slot since", w->name);
      check(same_text(g->signature, w->signature), id, "slot signature", w->name);
      check(g->combine == w->combine && g->on_error == w->on_error, id, "slot policy", w->name);
      check(same_text(g->chain_to, w->chain_to), id, "slot chain_to", w->name);
      check(g->out_max == w->out_max, id, "slot out_max", w->name);
   }
   check(modkit_loader_slot_at(loader, id, want->slot_count, &s) == MODKIT_E_NOT_FOUND, id, "slot list",
         "the JSON has more slots");
   check(got->type_count == want->type_count, id, "type_count", NULL);
   for (uint32_t t = 0; t < want->type_count && t < got->type_count; ++t) {
      const modkit_type_desc *w = &want->types[t], *g = &got->types[t];
      check(same_text(g->name, w->name) && g->size == w->size, id, "struct", w->name);
      check(g->field_count == w->field_count, id, "field count", w->name);
      for (uint32_t f = 0; f < w->field_count && f < g->field_count; ++f) {
         const modkit_field_desc *wf = &w->fields[f], *gf = &g->fields[f];
         check(same_text(gf->name, wf->name) && same_text(gf->type, wf->type) && gf->offset == wf->offset, id,
               "field", wf->name);
      }
   }
}

int main(void) {
   size_t size = 0, cap = 1 << 16;
   char *text = malloc(cap);
   for (size_t n; text && (n = fread(text + size, 1, cap - size - 1, stdin)) > 0;) {
      size += n;
      if (size + 1 < cap) continue;
      char *bigger = realloc(text, cap *= 2);
      if (!bigger) free(text);
      text = bigger;
   }
   if (!text || size == 0) {
      fprintf(stderr, "categories_check: expected the categories JSON on stdin\n");
      free(text);
      return 1;
   }
   text[size] = '\0';
   modkit_loader_options o = {0};
   o.struct_size = sizeof o;
   o.log = print_log;
   o.categories_json = text;
   modkit_loader *loader = NULL;
   const modkit_status s = modkit_loader_create(&o, &loader);
   free(text); /* the loader copied it */
   check(s == MODKIT_OK, "categories JSON", "acceptance", "the loader refused it");
   if (loader) {
      compare(loader, modkit_spam_checker_category());
      compare(loader, modkit_password_auth_provider_category());
      modkit_loader_destroy(loader);
   }
   printf("%d passed, %d failed\n", passed, failed);
   return failed == 0 ? 0 : 1;
}
