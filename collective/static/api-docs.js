// Starts Swagger UI on the API docs page (collective/templates/api/docs.html). A request
// tried from the page is sent with the session cookie of whoever is signed in, so it
// carries the page's CSRF token too (a request with a token needs none).
(function () {
  "use strict";
  var root = document.getElementById("api-docs");
  var csrf = document.querySelector('meta[name="csrf-token"]');
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    requestInterceptor: function (request) {
      if (csrf && !request.headers.Authorization) {
        request.headers["X-CSRFToken"] = csrf.getAttribute("content");
      }
      return request;
    }
  });
})();
