// The JSON API's reference page (/api/v1/docs): Swagger UI, from the swagger-ui-dist npm
// package that scripts/bootstrap.sh copies beside this file, renders the OpenAPI document
// the server builds from its code. Nothing is fetched from another site.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#docs",
    deepLinking: true,
    defaultModelsExpandDepth: 0,
  });
});
