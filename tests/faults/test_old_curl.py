"""A libcurl too old for the HTTP client.

vigil loads libcurl.so.4 when its first HTTP output starts. On a host whose
libcurl is 7.81 (Ubuntu 22.04's), every function is there but the client's
options are not (CURLOPT_PROTOCOLS_STR came in 7.85.0): `check-config` said ok,
the agent started, and every request failed with "curl setup failed". Here a
fake libcurl.so.4 that says it is 7.81.0 (and refuses those options, as 7.81
does) stands in for the real one through LD_LIBRARY_PATH: check-config reports
it at the output's url, and `vigil run` refuses to start.
"""

import os
import subprocess

import faults
from faults import AgentTestCase
from harness import run_cli

MESSAGE = "libcurl 7.81.0 is too old: vigil needs 7.85.0 or later for HTTP outputs"

# Enough of libcurl's ABI for vigil to load it and for a request to get as far
# as 7.81 lets it: the version, and stubs that accept everything but the
# options 7.81 does not know.
FAKE_CURL = r"""
#include <stddef.h>
#include <stdarg.h>
#include <time.h>

struct version_info {
  int age;
  const char *version;
  unsigned int version_num;
  const char *host;
  int features;
  const char *ssl_version;
  long ssl_version_num;
  const char *libz_version;
  const char *const *protocols;
  void *rest[32];
};

static const char *const protocols[] = {"http", "https", NULL};
static struct version_info info = {9, "7.81.0", 0x075100, "x86_64-pc-linux-gnu", 0,
                                   "OpenSSL/3.0.2", 0, "1.2.11", protocols, {0}};
static int dummy;

struct version_info *curl_version_info(int age) { (void)age; return &info; }
int curl_global_init(long flags) { (void)flags; return 0; }
void *curl_easy_init(void) { return &dummy; }
void curl_easy_cleanup(void *e) { (void)e; }
int curl_easy_setopt(void *e, int option, ...) {
  (void)e;
  /* CURLOPT_PROTOCOLS_STR and CURLOPT_REDIR_PROTOCOLS_STR: unknown to 7.81. */
  return option == 10318 || option == 10319 ? 48 : 0;
}
int curl_easy_getinfo(void *e, int info_id, ...) { (void)e; (void)info_id; return 0; }
const char *curl_easy_strerror(int code) {
  return code == 48 ? "An unknown option was passed in to libcurl" : "stub";
}
time_t curl_getdate(const char *p, const time_t *unused) { (void)p; (void)unused; return -1; }
void *curl_multi_init(void) { return &dummy; }
int curl_multi_cleanup(void *m) { (void)m; return 0; }
int curl_multi_add_handle(void *m, void *e) { (void)m; (void)e; return 0; }
int curl_multi_remove_handle(void *m, void *e) { (void)m; (void)e; return 0; }
int curl_multi_assign(void *m, int s, void *p) { (void)m; (void)s; (void)p; return 0; }
int curl_multi_setopt(void *m, int option, ...) { (void)m; (void)option; return 0; }
int curl_multi_socket_action(void *m, int s, int ev, int *running) {
  (void)m; (void)s; (void)ev; *running = 0; return 0;
}
void *curl_multi_info_read(void *m, int *left) { (void)m; *left = 0; return NULL; }
const char *curl_multi_strerror(int code) { (void)code; return "stub"; }
void *curl_share_init(void) { return &dummy; }
int curl_share_cleanup(void *s) { (void)s; return 0; }
int curl_share_setopt(void *s, int option, ...) { (void)s; (void)option; return 0; }
void *curl_slist_append(void *list, const char *text) { (void)text; return list ? list : &dummy; }
void curl_slist_free_all(void *list) { (void)list; }
"""


class OldCurl(AgentTestCase):
    def setUp(self):
        super().setUp()
        source = self.w.write("fake_curl.c", FAKE_CURL)
        libdir = self.w.file("lib")
        os.makedirs(libdir)
        subprocess.run(["cc", "-shared", "-fPIC", "-o", os.path.join(libdir, "libcurl.so.4"),
                        source], check=True, capture_output=True, timeout=60)
        # dlopen("libcurl.so.4") searches LD_LIBRARY_PATH first.
        self.env = {"LD_LIBRARY_PATH": libdir}

    def config(self, url):
        return self.w.write("vigil.ini", (
            "[agent]\nstate_dir = %s\nstatus_listen = off\n"
            "[output main]\nurl = %s\n[load]\n") % (self.w.file("state"), url))

    def test_check_config_names_the_version(self):
        path = self.config("https://127.0.0.1:9/ingest")
        r = run_cli(["check-config", "-c", path], env=self.env, timeout=30)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "%s:5: url: %s\n" % (path, MESSAGE))

    def test_run_refuses_to_start(self):
        path = self.config("https://127.0.0.1:9/ingest")
        try:
            r = run_cli(["run", "-c", path], env=self.env, timeout=20)
        except subprocess.TimeoutExpired:
            self.fail("vigil run started with a libcurl too old to send anything")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(MESSAGE, r.stderr)

    def test_outputs_without_http_do_not_need_libcurl(self):
        r = run_cli(["check-config", "-c", self.config("stdout")], env=self.env, timeout=30)
        self.assertEqual((r.returncode, r.stdout), (0, "ok\n"), r.stderr)


if __name__ == "__main__":
    faults.main()
