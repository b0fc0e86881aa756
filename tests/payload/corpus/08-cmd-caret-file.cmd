curl.exe -X POST ^
  -H "Authorization: Bearer %ACCESS_TOKEN%" ^
  -H "x-api-key: %API_KEY%" ^
  -H "x-gw-ims-org-id: 0123456789ABCDEF01234567@AdobeOrg" ^
  -H "x-sandbox-name: prod" ^
  -H "Content-Type: application/json" ^
  -d @unitary-body.json ^
  https://platform.adobe.io/ajo/im/executions/unitary
