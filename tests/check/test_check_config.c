/* SPDX-License-Identifier: MIT */
/* The check tool's configuration file reader: collectd syntax, choosing an
 * <Instance>, skipping other blocks, bounds, and messages with file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "check_config.h"

static const char *const PLUGIN_CONF = "LoadPlugin dovecot\n"
                                       "<LoadPlugin other>\n"
                                       "  Interval 5\n"
                                       "</LoadPlugin>\n"
                                       "<Plugin other>\n"
                                       "  <Instance \"x\">\n"
                                       "    Socket \"/other\"\n"
                                       "  </Instance>\n"
                                       "</Plugin>\n"
                                       "<Plugin \"dovecot\">\n"
                                       "  <Instance \"local\">   # the first\n"
                                       "    Socket \"/run/a b\"\n"
                                       "    QuotaUser \"alice\" \"bob\"\n"
                                       "  </Instance>\n"
                                       "  <Instance mail1>\n"
                                       "    Host \"mail1\" # comment \"quoted\"\n"
                                       "    Password \"p\\\"w#x\"\n"
                                       "  </Instance>\n"
                                       "</Plugin>\n";

static void assert_item(const chk_config_options *o, size_t i, const char *option,
                        const char *value, unsigned line)
{
    assert_true(i < o->nitems);
    assert_string_equal(o->items[i].option, option);
    assert_string_equal(o->items[i].value, value);
    assert_int_equal(o->items[i].line, line);
}

static void test_first_instance_of_the_dovecot_block(void **state)
{
    (void)state;
    chk_config_options o;
    dva_error err = {0};
    assert_int_equal(chk_config_parse("f.conf", PLUGIN_CONF, NULL, &o, &err), 0);
    assert_string_equal(o.instance, "local");
    assert_int_equal(o.nitems, 3);
    assert_item(&o, 0, "Socket", "/run/a b", 12);
    assert_item(&o, 1, "QuotaUser", "alice", 13);
    assert_item(&o, 2, "QuotaUser", "bob", 13);
    assert_int_equal(o.items[2].nth, 1);
    chk_config_options_free(&o);
}

static void test_named_instance_and_escapes(void **state)
{
    (void)state;
    chk_config_options o;
    dva_error err = {0};
    assert_int_equal(chk_config_parse("f.conf", PLUGIN_CONF, "mail1", &o, &err), 0);
    assert_string_equal(o.instance, "mail1");
    assert_int_equal(o.nitems, 2);
    assert_item(&o, 0, "Host", "mail1", 16);
    assert_item(&o, 1, "Password", "p\"w#x", 17);
    chk_config_options_free(&o);

    assert_int_equal(chk_config_parse("f.conf", PLUGIN_CONF, "x", &o, &err), -1);
    assert_string_equal(err.message,
                        "f.conf: no <Instance \"x\"> block; name one that is "
                        "there with --instance");
}

static void test_bare_lines(void **state)
{
    (void)state;
    chk_config_options o;
    dva_error err = {0};
    assert_int_equal(chk_config_parse("t", "\n# c\n  Socket /s\r\nQuotaWarning 85\n",
                                      NULL, &o, &err),
                     0);
    assert_null(o.instance);
    assert_int_equal(o.nitems, 2);
    assert_item(&o, 0, "Socket", "/s", 3);
    assert_item(&o, 1, "QuotaWarning", "85", 4);
    chk_config_options_free(&o);
}

static void test_syntax_errors_name_the_line(void **state)
{
    (void)state;
    chk_config_options o;
    dva_error err = {0};
    assert_int_equal(chk_config_parse("t", "Socket \"/s\n", NULL, &o, &err), -1);
    assert_string_equal(err.message, "t:1: a quoted string is not closed");
    assert_int_equal(chk_config_parse("t", "\nSocket\n", NULL, &o, &err), -1);
    assert_string_equal(err.message, "t:2: the option has no value");
    assert_int_equal(chk_config_parse("t", "<Plugin dovecot>\n", NULL, &o, &err), -1);
    assert_string_equal(err.message, "t:1: a block is not closed");
    assert_int_equal(chk_config_parse("t", "</Plugin>\n", NULL, &o, &err), -1);
    assert_string_equal(err.message, "t:1: a closing tag without an opening one");
    char big[CHK_CONFIG_LINE_MAX + 10];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(chk_config_parse("t", big, NULL, &o, &err), -1);
    assert_string_equal(err.message, "t:1: the line is too long");
}

static void test_apply_through_the_schema(void **state)
{
    (void)state;
    chk_config_options o;
    dva_error err = {0};
    dva_config *c = dva_config_new("local");
    assert_int_equal(chk_config_parse("t", "Socket /a /b\n", NULL, &o, &err), 0);
    assert_int_equal(chk_config_apply(&o, "t", c, &err), -1);
    assert_string_equal(err.message,
                        "t:1: option Socket takes one value; remove the others");
    chk_config_options_free(&o);
    dva_config_free(c);

    c = dva_config_new("local");
    assert_int_equal(chk_config_parse("t", "\nSockt /a\n", NULL, &o, &err), 0);
    assert_int_equal(chk_config_apply(&o, "t", c, &err), -1);
    assert_non_null(strstr(err.message,
                           "t:2: instance \"local\": unknown option \"Sockt\"; "
                           "did you mean Socket?"));
    chk_config_options_free(&o);
    dva_config_free(c);

    c = dva_config_new("local");
    assert_int_equal(
        chk_config_parse("t", "QuotaUser a b\nQuotaWarning 80\n", NULL, &o, &err), 0);
    assert_int_equal(chk_config_apply(&o, "t", c, &err), 0);
    dva_settings s;
    assert_int_equal(dva_config_finish(c, &s, NULL, NULL, &err), 0);
    assert_int_equal(s.nquota_users, 2);
    assert_true(s.quota_warning == 80.0);
    dva_settings_free(&s);
    chk_config_options_free(&o);
    dva_config_free(c);
}

/* The drop-in the package installs is a valid file for the tool. */
static void test_the_shipped_drop_in(void **state)
{
    (void)state;
    chk_config_options o;
    dva_error err = {0};
    assert_int_equal(
        chk_config_parse_file(DVA_SOURCE_DIR "/conf.d/dovecot.conf", NULL, &o, &err),
        0);
    assert_string_equal(o.instance, "local");
    dva_config *c = dva_config_new(o.instance);
    assert_int_equal(chk_config_apply(&o, "dovecot.conf", c, &err), 0);
    dva_settings s;
    assert_int_equal(dva_config_finish(c, &s, NULL, NULL, &err), 0);
    assert_string_equal(s.socket_path, "/run/dovecot/doveadm-server");
    dva_settings_free(&s);
    dva_config_free(c);
    chk_config_options_free(&o);

    assert_int_equal(chk_config_parse_file("/nonexistent.conf", NULL, &o, &err), -1);
    assert_string_equal(err.message,
                        "cannot read /nonexistent.conf: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_instance_of_the_dovecot_block),
        cmocka_unit_test(test_named_instance_and_escapes),
        cmocka_unit_test(test_bare_lines),
        cmocka_unit_test(test_syntax_errors_name_the_line),
        cmocka_unit_test(test_apply_through_the_schema),
        cmocka_unit_test(test_the_shipped_drop_in),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
