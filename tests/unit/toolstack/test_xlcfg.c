/* xl.cfg(5) syntax. */
#include "unit.h"
#include "cfg_helpers.h"
#include <stdlib.h>

static struct xlcfg C;
static struct cfg_diag D;

TEST(xlcfg_basic_values)
{
    CHECK_EQ(t_parse(&C, &D, "name = \"g\"\nmemory = 512\nkernel='/k'\n"), 0);
    CHECK_EQ(C.n, 3);
    CHECK_STR(t_val(&C, "name"), "g");
    CHECK_EQ(C.sets[1].val->kind, XLV_NUMBER);
    CHECK_STR(t_val(&C, "memory"), "512");
    CHECK_EQ(C.sets[2].val->kind, XLV_STRING);
    CHECK_EQ(C.sets[2].line, 3);
    CHECK_EQ(D.n, 0);
}

TEST(xlcfg_numbers_hex_octal_kept_as_text)
{
    CHECK_EQ(t_parse(&C, &D, "a = 0x1f\nb = 010\nc=7"), 0);
    CHECK_STR(t_val(&C, "a"), "0x1f");
    CHECK_STR(t_val(&C, "b"), "010");
    CHECK_STR(t_val(&C, "c"), "7");   /* last line without newline */
}

TEST(xlcfg_semicolons_and_comments)
{
    CHECK_EQ(t_parse(&C, &D, "name=\"h0\"; type=\"pvh\" # comment ; x = 1\n# whole line\n;;\nvcpus=2;"), 0);
    CHECK_EQ(C.n, 3);
    CHECK_STR(t_val(&C, "type"), "pvh");
    CHECK(!xlcfg_find(&C, "x"));
}

TEST(xlcfg_lists_span_lines_trailing_comma)
{
    CHECK_EQ(t_parse(&C, &D, "disk = [\n  'a',\n\n  \"b\" ,\n]\nvif=[]\nx=[1,[2,'3'],]"), 0);
    const struct xlset *s = xlcfg_find(&C, "disk");
    CHECK(s && s->val->kind == XLV_LIST && s->val->n == 2);
    CHECK_STR(s->val->items[1]->str, "b");
    CHECK_EQ(s->val->items[1]->line, 4);
    CHECK_EQ(xlcfg_find(&C, "vif")->val->n, 0);
    s = xlcfg_find(&C, "x");
    CHECK_EQ(s->val->n, 2);
    CHECK_EQ(s->val->items[1]->kind, XLV_LIST);
    CHECK_STR(s->val->items[1]->items[1]->str, "3");
}

TEST(xlcfg_string_escapes)
{
    CHECK_EQ(t_parse(&C, &D, "a = \"q\\\"\\\\\\n\\t\"\nb = 'it\\'s'\nc = \"\\x41\\102\"\nd='\"'"), 0);
    CHECK_STR(t_val(&C, "a"), "q\"\\\n\t");
    CHECK_STR(t_val(&C, "b"), "it's");
    CHECK_STR(t_val(&C, "c"), "AB");
    CHECK_STR(t_val(&C, "d"), "\"");
}

TEST(xlcfg_bad_escape_is_error)
{
    CHECK_EQ(t_parse(&C, &D, "a = \"x\\q\"\n"), -1);
    CHECK(diag_has(&D, "t.cfg:1: config parsing error: invalid escape"));
    CHECK_EQ(t_parse(&C, &D, "a = \"x\\0\"\n"), -1);
    CHECK(diag_has(&D, "NUL character escape"));
}

TEST(xlcfg_later_setting_wins)
{
    CHECK_EQ(t_parse(&C, &D, "memory = 128\nmemory = 256\n"), 0);
    CHECK_EQ(C.n, 2);
    CHECK_STR(t_val(&C, "memory"), "256");
    CHECK_EQ(xlcfg_find(&C, "memory")->line, 2);
}

TEST(xlcfg_append_string_and_list)
{
    CHECK_EQ(t_parse(&C, &D, "extra = \"a\"\nextra += \" b\"\ndisk=['x']\ndisk += ['y','z']\nnew += 'n'"), 0);
    CHECK_STR(t_val(&C, "extra"), "a b");
    const struct xlset *s = xlcfg_find(&C, "disk");
    CHECK(s->append);
    CHECK_EQ(s->val->n, 3);
    CHECK_STR(s->val->items[0]->str, "x");
    CHECK_STR(s->val->items[2]->str, "z");
    CHECK_STR(t_val(&C, "new"), "n");
}

TEST(xlcfg_append_type_mismatch)
{
    CHECK_EQ(t_parse(&C, &D, "disk=['x']\ndisk += 'y'\n"), -1);
    CHECK(diag_has(&D, "t.cfg:2: config parsing error: disk: can't add [list] to \"string\""));
}

TEST(xlcfg_override_after_file)
{
    CHECK_EQ(t_parse(&C, &D, "memory = 128\nvif = ['bridge=a']\n"), 0);
    CHECK_EQ(xlcfg_apply_override(&C, "memory=1024", &D), 0);
    CHECK_EQ(xlcfg_apply_override(&C, "vif=['bridge=b','bridge=c']", &D), 0);
    CHECK_EQ(xlcfg_apply_override(&C, "extra=\"x\"; name='n'", &D), 0);
    CHECK_STR(t_val(&C, "memory"), "1024");
    CHECK_EQ(xlcfg_find(&C, "vif")->val->n, 2);
    CHECK_STR(xlcfg_find(&C, "memory")->file, "command line");
    CHECK_STR(t_val(&C, "name"), "n");
    CHECK_EQ(xlcfg_apply_override(&C, "vif += ['bridge=d']", &D), 0);
    CHECK_EQ(xlcfg_find(&C, "vif")->val->n, 3);
}

TEST(xlcfg_override_errors_name_command_line)
{
    CHECK_EQ(t_parse(&C, &D, "memory = 128\n"), 0);
    CHECK_EQ(xlcfg_apply_override(&C, "memory", &D), -1);
    CHECK(diag_has(&D, "command line:1: config parsing error"));
    CHECK_EQ(xlcfg_apply_override(&C, "name=foo", &D), -1);
    CHECK(diag_has(&D, "bare word 'foo' (strings need quotes)"));
}

TEST(xlcfg_error_missing_equals)
{
    CHECK_EQ(t_parse(&C, &D, "name \"x\"\n"), -1);
    CHECK_STR(diag_first_error(&D), "t.cfg:1: config parsing error near `\"x\"': expected '=' after the key 'name'");
}

TEST(xlcfg_error_uppercase_key)
{
    CHECK_EQ(t_parse(&C, &D, "ok = 1\nName = \"x\"\n"), -1);
    CHECK(diag_has(&D, "t.cfg:2: config parsing error: unexpected character 'N' (keys are lower case)"));
    CHECK_STR(t_val(&C, "ok"), "1");
}

TEST(xlcfg_error_unterminated_string)
{
    CHECK_EQ(t_parse(&C, &D, "name = \"abc\nmemory = 1\n"), -1);
    CHECK(diag_has(&D, "t.cfg:1: config parsing error: unterminated quoted string"));
    CHECK_STR(t_val(&C, "memory"), "1");      /* recovers at the next line */
}

TEST(xlcfg_error_missing_value)
{
    CHECK_EQ(t_parse(&C, &D, "memory =\n"), -1);
    CHECK(diag_has(&D, "t.cfg:1: config parsing error near <newline>: expected a value"));
    CHECK_EQ(t_parse(&C, &D, "memory = "), -1);
    CHECK(diag_has(&D, "at end of file: expected a value"));
}

TEST(xlcfg_error_two_values_on_a_line)
{
    CHECK_EQ(t_parse(&C, &D, "a = 1 b = 2\n"), -1);
    CHECK(diag_has(&D, "t.cfg:1: config parsing error near `b': expected a newline or ';' after the value of 'a'"));
}

TEST(xlcfg_error_list_missing_comma_and_bracket)
{
    CHECK_EQ(t_parse(&C, &D, "disk = [ 'a' 'b' ]\nname='x'\n"), -1);
    CHECK(diag_has(&D, "t.cfg:1: config parsing error near `'b'': expected ',' or ']' in list"));
    CHECK_STR(t_val(&C, "name"), "x");
    CHECK_EQ(D.errors, 1);
    CHECK_EQ(t_parse(&C, &D, "disk = [ 'a',\n"), -1);
    CHECK(diag_has(&D, "at end of file: expected a value"));
    CHECK_EQ(t_parse(&C, &D, "disk = ]\n"), -1);
}

TEST(xlcfg_error_garbage_bytes_and_nul)
{
    static const char bin[] = "a = 1\n\x01\xff = 2\nb = \"x\0y\"\n";
    xlcfg_free(&C);
    diag_free(&D);
    CHECK_EQ(xlcfg_parse_text(&C, "bin.cfg", bin, sizeof(bin) - 1, &D), -1);
    CHECK(diag_has(&D, "bin.cfg:2: config parsing error: unexpected byte 0x01"));
    CHECK(diag_has(&D, "bin.cfg:3: config parsing error: NUL character in quoted string"));
}

TEST(xlcfg_error_deep_nesting)
{
    char buf[256];
    strcpy(buf, "x = ");
    for (int i = 0; i < 40; i++)
        strcat(buf, "[");
    CHECK_EQ(t_parse(&C, &D, buf), -1);
    CHECK(diag_has(&D, "lists nested too deeply"));
}

TEST(xlcfg_error_python_hint)
{
    CHECK_EQ(t_parse(&C, &D, "import os\nname = 'x'\n"), -1);
    CHECK(diag_has(&D, "looks like it contains Python code"));
}

TEST(xlcfg_crlf_accepted)
{
    CHECK_EQ(t_parse(&C, &D, "name = \"g\"\r\nmemory = 64\r\n"), 0);
    CHECK_STR(t_val(&C, "memory"), "64");
}

TEST(xlcfg_file_missing)
{
    xlcfg_free(&C);
    diag_free(&D);
    CHECK_EQ(xlcfg_parse_file(&C, "/nonexistent/x.cfg", &D), -1);
    CHECK(diag_has(&D, "/nonexistent/x.cfg: unable to open configuration file: No such file"));
}

TEST(xlcfg_many_errors_capped)
{
    char *big = malloc(20001);
    for (int i = 0; i < 20000; i += 2) {
        big[i] = '!';
        big[i + 1] = '\n';
    }
    big[20000] = 0;
    CHECK_EQ(t_parse(&C, &D, big), -1);
    CHECK_EQ(D.errors, 10000);
    CHECK(D.n <= 200);
    free(big);
    xlcfg_free(&C);
    diag_free(&D);
}

/* xm files are Python: a triple-quoted string may span lines, and its line
 * numbers keep counting. */
TEST(xlcfg_triple_quoted_strings)
{
    CHECK_EQ(t_parse(&C, &D, "extra = \"\"\"console=hvc0\n  quiet \"x\" \"\"\"\n"
                             "root = '''/dev/xvda1'''\nafter = 1\n"), 0);
    CHECK_STR(t_val(&C, "extra"), "console=hvc0\n  quiet \"x\" ");
    CHECK_STR(t_val(&C, "root"), "/dev/xvda1");
    CHECK_EQ(C.sets[2].line, 4);
    CHECK_EQ(t_parse(&C, &D, "a = \"\"\"one\\\ntwo\"\"\"\n"), 0);
    CHECK_STR(t_val(&C, "a"), "onetwo");          /* backslash-newline joins */
    CHECK_EQ(t_parse(&C, &D, "a = \"\"\n"), 0);   /* an empty string is not a triple */
    CHECK_STR(t_val(&C, "a"), "");
    CHECK_EQ(t_parse(&C, &D, "name = 'x'\nextra = \"\"\"never\nclosed\n"), -1);
    CHECK(diag_has(&D, "t.cfg:2: config parsing error: unterminated triple-quoted string"));
}
