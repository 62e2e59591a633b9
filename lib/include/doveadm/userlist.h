/* `user <mask>`: the server answers one value, a JSON object
 * {"userList":["a@x","b@x"]}. Parsed strictly for this one shape, so no
 * JSON library is needed. */
#ifndef DOVEADM_USERLIST_H
#define DOVEADM_USERLIST_H

#include <stddef.h>

#include "doveadm/command.h"

typedef struct {
    char **users; /* NUL-terminated UTF-8, owned */
    size_t nusers;
} dva_userlist;

/* `user <mask>` (e.g. "*", "*@example.com"): a server-wide command. The
 * mask is copied into cmd. Returns 0, or -1 with cmd emptied (argc 0, which
 * dva_client_send() refuses) for a NULL or empty mask, one starting with
 * '-' (the server would take it for an option), or one longer than
 * DVA_COMMAND_STORAGE - 1 bytes. */
int dva_userlist_command(dva_command *cmd, const char *mask);

/* Parses the JSON text; at most max_users names (DVA_ERR_LIMIT beyond). */
int dva_userlist_parse(const char *json, size_t len, size_t max_users,
                       dva_userlist *out, dva_error *err);
/* Decodes a successful reply (exactly one value). */
int dva_userlist_decode(const dva_reply *reply, size_t max_users, dva_userlist *out,
                        dva_error *err);
void dva_userlist_free(dva_userlist *list);

#endif
