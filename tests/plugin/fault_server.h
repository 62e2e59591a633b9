/* SPDX-License-Identifier: MIT */
/* A scriptable fake doveadm server for fault tests.
 *
 * It listens on a UNIX socket or on 127.0.0.1 and serves like Dovecot:
 * every connection on its own, "+" to VERSION (or "-" and then PLAIN
 * checked against the password), and each request line answered with the
 * captured reply of a good server (tu_good_reply()). A script makes every
 * connection misbehave at one point: hang, close, send garbage, send a
 * value that never ends, drip bytes one at a time, or send bytes of its
 * own.
 *
 * The server runs in a forked process, never in threads of the test: the
 * test process holds only the plugin, so its heap can be measured. The
 * listening socket belongs to the test process and outlives the scripts,
 * so fs_server_set_script() switches from a good server to a faulty one
 * and back on the same address, as a restarted Dovecot would be. */
#ifndef DVP_FAULT_SERVER_H
#define DVP_FAULT_SERVER_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    FS_AT_NONE = 0, /* a good server */
    FS_AT_ACCEPT,   /* right after accept, before reading anything */
    FS_AT_VERSION,  /* after reading the VERSION line, instead of the answer */
    FS_AT_AUTH,     /* after a successful handshake (+ sent) */
    FS_AT_REPLY,    /* in the reply to a request (see command, nth, cut) */
} fs_when;

typedef enum {
    FS_CONTINUE = 0, /* send bytes (if any), then go on serving */
    FS_HANG,         /* say nothing more; read and drop until the client closes */
    FS_CLOSE,        /* the connection ends, as when Dovecot's process dies */
    FS_GARBAGE,      /* garbage_len pseudo-random bytes, then hang */
    FS_ENDLESS,      /* one value that never ends: bytes until the client closes */
} fs_action;

typedef struct {
    const char *password; /* NULL: "+" to VERSION (a pre-authenticated socket) */
    fs_when when;
    /* FS_AT_REPLY: the nth (0 = first) request of a connection whose
     * command starts with command (NULL: any) */
    const char *command;
    unsigned nth;
    /* FS_AT_REPLY: percent of the good reply sent before the action */
    unsigned cut_percent;
    fs_action action;
    const char *bytes; /* sent at the fault point, before the action */
    size_t nbytes;
    size_t garbage_len;
    /* > 0: every byte the server sends is written on its own, this many
     * microseconds apart (a reply drip-fed one byte at a time) */
    unsigned drip_us;
} fs_script;

typedef struct fs_server fs_server;

/* Listens on 127.0.0.1:<free port> (tcp) or on a UNIX socket in a fresh
 * temporary directory, serving script. */
fs_server *fs_server_start(bool tcp, const fs_script *script);
/* Serves new connections with script from now on (connections already
 * open keep theirs). NULL: stop accepting (connections queue unanswered). */
void fs_server_set_script(fs_server *s, const fs_script *script);
/* Closes the listening socket: new connections are refused (a UNIX
 * socket file stays, with no one listening) until fs_server_listen()
 * opens it again on the same address. */
void fs_server_unlisten(fs_server *s);
void fs_server_listen(fs_server *s);
const char *fs_server_path(const fs_server *s);
unsigned fs_server_port(const fs_server *s);
/* Stops everything, waits for the acceptor and removes the socket. */
void fs_server_stop(fs_server *s);

#endif
