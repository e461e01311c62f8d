// Tomcat 10 (embedded, Debian's libtomcat10-java) echo application of the
// router differential: the policy's routes as servlet mappings, the
// host-scoped route on a Tomcat virtual host (<Host name="admin.contoso.example">),
// a catch-all (the default servlet mapping "/"). Servlet mappings have no
// one-segment wildcard and no methods, so those two servlets check pathInfo
// and the method. Answers {route, host, hh, method, path} in the body and the
// x-echo header.
//
//   java -cp ... EchoServer PORT
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.catalina.Context;
import org.apache.catalina.Host;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.startup.Tomcat;

public class EchoServer {
  static final String ADMIN = "admin.contoso.example";

  static String js(String s) {
    if (s == null) return "null";
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20 || c >= 0x7f) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }

  static class Echo extends HttpServlet {
    final String route;
    Echo(String route) { this.route = route; }
    String routeFor(HttpServletRequest req) { return route; }
    @Override
    protected void service(HttpServletRequest req, HttpServletResponse res) throws IOException {
      String body = "{\"route\":" + js(routeFor(req)) + ",\"host\":" + js(req.getServerName())
          + ",\"hh\":" + js(req.getHeader("host")) + ",\"method\":" + js(req.getMethod())
          + ",\"path\":" + js(req.getServletPath() + (req.getPathInfo() == null ? "" : req.getPathInfo()))
          + ",\"target\":" + js(req.getRequestURI() + (req.getQueryString() == null ? "" : "?" + req.getQueryString())) + "}";
      res.setStatus(200);
      res.setContentType("application/json");
      res.setHeader("x-echo", body);
      byte[] out = body.getBytes(StandardCharsets.US_ASCII);
      res.setContentLength(out.length);
      if (!"HEAD".equals(req.getMethod())) res.getOutputStream().write(out);
    }
  }

  static void routes(Context ctx, boolean admin) {
    add(ctx, "customers", new Echo("customers"), "/commerce", "/commerce/*");
    add(ctx, "csp", new Echo("csp_customers") {
      @Override String routeFor(HttpServletRequest r) {
        String p = r.getPathInfo();
        return p != null && p.length() > 1 && p.indexOf('/', 1) < 0 ? "csp_customers" : "default";
      }
    }, "/dashboard/support/csp/customers/*");
    add(ctx, "billing", new Echo("billing"), "/dashboard/billing", "/dashboard/billing/*");
    add(ctx, "reports", new Echo("reports") {
      @Override String routeFor(HttpServletRequest r) {
        String m = r.getMethod();
        return m.equals("GET") || m.equals("HEAD") || m.equals("DELETE") ? "reports" : "default";
      }
    }, "/reports", "/reports/*");
    add(ctx, "api", new Echo("api"), "/v1", "/v1/*");
    add(ctx, "health", new Echo("health"), "/healthz");
    if (admin) add(ctx, "settings", new Echo("admin_settings"), "/settings", "/settings/*");
    add(ctx, "default", new Echo("default"), "/");
  }

  static void add(Context ctx, String name, HttpServlet s, String... patterns) {
    Tomcat.addServlet(ctx, name, s);
    for (String p : patterns) ctx.addServletMappingDecoded(p, name);
  }

  public static void main(String[] args) throws Exception {
    File base = new File(System.getProperty("java.io.tmpdir"), "mfagate-tomcat-" + args[0]);
    Tomcat tomcat = new Tomcat();
    tomcat.setBaseDir(base.getAbsolutePath());
    tomcat.setPort(Integer.parseInt(args[0]));
    tomcat.getConnector().setProperty("address", "127.0.0.1");
    routes(tomcat.addContext("", null), false);
    Host admin = new StandardHost();
    admin.setName(ADMIN);
    admin.setAppBase(new File(base, "admin").getAbsolutePath());
    tomcat.getEngine().addChild(admin);
    routes(tomcat.addContext(admin, "", null), true);
    tomcat.start();
    System.out.println("listening");
    tomcat.getServer().await();
  }
}
