// The HTTPS sink of bench/forward: answers every POST with 200 and counts.
//
//   forward_sink CERT KEY PORT_FILE
//
// Listens on 127.0.0.1 (any free port, written to PORT_FILE once it listens),
// speaks HTTP/1.1 with keep-alive, one thread per connection, reads each body by
// Content-Length into a reused buffer without parsing it, and answers
// `GET /stats` with {"requests": N, "bytes": body bytes received, "cpu_ns": the
// CPU time its connection threads spent, handshakes included}. Written in C with
// OpenSSL so that the sink costs far less CPU than the agent it measures:
// bench/forward prints the records per sink CPU-second, the ceiling the sink itself
// would impose on one core.
//
// Built by bench/forward only (never part of the agent).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUFFER_BYTES (1 << 20)
#define HEAD_MAX (64 << 10)

static atomic_ullong g_requests;
static atomic_ullong g_bytes;
static atomic_ullong g_cpu_ns;

// Adds this thread's CPU time since *last to g_cpu_ns.
static void count_cpu(unsigned long long* last) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  unsigned long long now = (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
  atomic_fetch_add(&g_cpu_ns, now - *last);
  *last = now;
}

struct conn {
  SSL* ssl;
  int fd;
};

// Reads until the head ("\r\n\r\n") is whole; returns its length with the
// terminator, or -1 on a closed or failed connection or a head too long.
// Bytes read past the head stay in buf[head..*have).
static long read_head(SSL* ssl, char* buf, size_t* have) {
  for (;;) {
    if (*have >= 4) {
      char* end = memmem(buf, *have, "\r\n\r\n", 4);
      if (end != NULL) {
        return end - buf + 4;
      }
    }
    if (*have >= HEAD_MAX) {
      return -1;
    }
    int n = SSL_read(ssl, buf + *have, (int)(BUFFER_BYTES - *have));
    if (n <= 0) {
      return -1;
    }
    *have += (size_t)n;
  }
}

// The Content-Length of a head, -1 when it has none.
static long long content_length(const char* head, size_t len) {
  const char* p = head;
  const char* end = head + len;
  while (p < end) {
    const char* eol = memmem(p, (size_t)(end - p), "\r\n", 2);
    if (eol == NULL) {
      break;
    }
    if ((size_t)(eol - p) > 15 && strncasecmp(p, "content-length:", 15) == 0) {
      return strtoll(p + 15, NULL, 10);
    }
    p = eol + 2;
  }
  return -1;
}

static int reply(SSL* ssl, const char* body) {
  char out[512];
  int n = snprintf(out, sizeof out,
                   "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                   "Content-Length: %zu\r\n\r\n%s",
                   strlen(body), body);
  return SSL_write(ssl, out, n) == n ? 0 : -1;
}

static void* serve(void* arg) {
  struct conn* c = arg;
  char* buf = malloc(BUFFER_BYTES);
  size_t have = 0;
  unsigned long long cpu = 0;
  count_cpu(&cpu);
  atomic_fetch_sub(&g_cpu_ns, cpu);  // counted from here on
  if (buf == NULL || SSL_accept(c->ssl) != 1) {
    goto out;
  }
  for (;;) {
    long head = read_head(c->ssl, buf, &have);
    if (head < 0) {
      break;
    }
    int is_get = strncmp(buf, "GET ", 4) == 0;
    long long length = content_length(buf, (size_t)head);
    if (length < 0) {
      length = 0;
    }
    // What follows the head in the buffer belongs to the body first.
    size_t extra = have - (size_t)head;
    size_t in_buffer = extra < (unsigned long long)length ? extra : (size_t)length;
    long long left = length - (long long)in_buffer;
    memmove(buf, buf + head + in_buffer, extra - in_buffer);
    have = extra - in_buffer;
    while (left > 0) {
      // `have` is 0 here: the whole buffer takes body bytes.
      int want = left < BUFFER_BYTES ? (int)left : BUFFER_BYTES;
      int n = SSL_read(c->ssl, buf, want);
      if (n <= 0) {
        goto out;
      }
      left -= n;
    }
    if (is_get) {
      char body[160];
      snprintf(body, sizeof body, "{\"requests\": %llu, \"bytes\": %llu, \"cpu_ns\": %llu}",
               (unsigned long long)atomic_load(&g_requests),
               (unsigned long long)atomic_load(&g_bytes),
               (unsigned long long)atomic_load(&g_cpu_ns));
      if (reply(c->ssl, body) != 0) {
        break;
      }
    } else {
      atomic_fetch_add(&g_requests, 1);
      atomic_fetch_add(&g_bytes, (unsigned long long)length);
      if (reply(c->ssl, "{}") != 0) {
        break;
      }
      count_cpu(&cpu);
    }
  }
out:
  count_cpu(&cpu);
  free(buf);
  SSL_free(c->ssl);
  close(c->fd);
  free(c);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: forward_sink CERT KEY PORT_FILE\n");
    return 2;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, argv[1]) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, argv[2], SSL_FILETYPE_PEM) != 1) {
    ERR_print_errors_fp(stderr);
    return 1;
  }
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(listener, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(listener, 64) != 0 ||
      getsockname(listener, (struct sockaddr*)&addr, &len) != 0) {
    perror("listen");
    return 1;
  }
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", argv[3]);
  FILE* f = fopen(tmp, "w");
  if (f == NULL || fprintf(f, "%d\n", ntohs(addr.sin_port)) < 0 || fclose(f) != 0 ||
      rename(tmp, argv[3]) != 0) {
    perror(argv[3]);
    return 1;
  }
  for (;;) {
    int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn* c = malloc(sizeof *c);
    c->fd = fd;
    c->ssl = SSL_new(ctx);
    SSL_set_fd(c->ssl, fd);
    pthread_t thread;
    if (pthread_create(&thread, NULL, serve, c) != 0) {
      SSL_free(c->ssl);
      close(fd);
      free(c);
      continue;
    }
    pthread_detach(thread);
  }
}
