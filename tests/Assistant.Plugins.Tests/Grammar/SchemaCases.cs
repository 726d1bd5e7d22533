using System.Text.Json;

namespace Assistant.Plugins.Tests.Grammar;

/// <summary>A test schema with documents the grammar must admit and documents (all schema-invalid) it must refuse.</summary>
internal sealed record SchemaCase(string Schema, string[] Valid, string[] Invalid)
{
    public JsonElement Element => Parse(Schema);

    /// <summary>JSON written with single quotes for readability; no test string needs a real single quote.</summary>
    public static JsonElement Parse(string json) => JsonDocument.Parse(json.Replace('\'', '"')).RootElement.Clone();
}

/// <summary>The table of schemas: each supported feature, alone and nested in the others.</summary>
internal static class SchemaCases
{
    public static IReadOnlyDictionary<string, SchemaCase> All { get; } = new Dictionary<string, SchemaCase>(StringComparer.Ordinal)
    {
        ["flat-required"] = new(
            "{'type':'object','properties':{'name':{'type':'string'},'count':{'type':'integer'},'price':{'type':'number'},'inStock':{'type':'boolean'}},'required':['name','count','price','inStock'],'additionalProperties':false}",
            ["{'name':'a','count':1,'price':2.5e3,'inStock':true}", "{ 'name': 'x\\'y\\u00e9', 'count': -3, 'price': 0, 'inStock': false }"],
            [
                "{'name':'a','count':1,'price':2}",
                "{'name':'a','count':1,'price':2,'inStock':true,'extra':1}",
                "{'name':'a','count':1.5,'price':2,'inStock':true}",
                "{'name':1,'count':1,'price':2,'inStock':true}",
                "{'name':'a','count':1,'price':'2','inStock':true}",
            ]),
        ["optional-interleaved"] = new(
            "{'type':'object','properties':{'a':{'type':'string'},'b':{'type':'integer'},'c':{'type':'boolean'},'d':{'type':'array','items':{'type':'string'}}},'required':['a','c'],'additionalProperties':false}",
            ["{'a':'x','c':true}", "{'a':'x','b':2,'c':false,'d':[]}", "{'a':'','c':true,'d':['p','q']}"],
            ["{'c':true}", "{'a':'x'}", "{'a':'x','c':true,'e':1}", "{'a':'x','b':'1','c':true}", "{'a':'x','c':true,'d':[1]}"]),
        ["all-optional"] = new(
            "{'type':'object','properties':{'x':{'type':'number'},'y':{'type':'string'},'z':{'type':'null'}},'additionalProperties':false}",
            ["{}", "{'y':'a'}", "{'x':1,'z':null}", "{'x':-0.5E+2,'y':'b','z':null}"],
            ["{'w':1}", "{'x':'1'}", "{'z':0}", "[]"]),
        ["enums"] = new(
            "{'type':'object','properties':{'color':{'type':'string','enum':['red','green','blue']},'size':{'const':'L'},'mixed':{'enum':['a',1,12,123,true,null,2.5,{'k':[1,'\u00e9']},[1,2]]}},'required':['color','size','mixed'],'additionalProperties':false}",
            ["{'color':'red','size':'L','mixed':12}", "{'color':'blue','size':'L','mixed':{'k':[1,'\u00e9']}}", "{'color':'green','size':'L','mixed':null}"],
            ["{'color':'purple','size':'L','mixed':1}", "{'color':'red','size':'M','mixed':1}", "{'color':'red','size':'L','mixed':13}", "{'color':'red','size':'L','mixed':false}", "{'color':'red','size':'L'}"]),
        ["strings"] = new(
            "{'type':'object','properties':{'code':{'type':'string','minLength':2,'maxLength':4},'note':{'type':['string','null'],'maxLength':10},'free':{'type':'string'}},'required':['code','note','free'],'additionalProperties':false}",
            ["{'code':'ab','note':null,'free':''}", "{'code':'\u00e9\u00e9\u00e9\u00e9','note':'0123456789','free':'tab\\tnew\\nline \\\\ \\/'}"],
            ["{'code':'a','note':null,'free':''}", "{'code':'abcde','note':null,'free':''}", "{'code':'ab','note':5,'free':''}", "{'code':'ab','note':'01234567890','free':''}", "{'code':'ab','note':null}"]),
        ["arrays"] = new(
            "{'type':'object','properties':{'ints':{'type':'array','items':{'type':'integer'},'minItems':2,'maxItems':5},'matrix':{'type':'array','maxItems':3,'items':{'type':'array','maxItems':3,'items':{'type':'number'}}},'tags':{'type':'array','items':{'enum':['new','sale']}}},'required':['ints','matrix','tags'],'additionalProperties':false}",
            ["{'ints':[1,2],'matrix':[],'tags':[]}", "{'ints':[0,-1,2,3,4],'matrix':[[1.5],[],[2,3,4]],'tags':['sale','sale','new']}"],
            ["{'ints':[1],'matrix':[],'tags':[]}", "{'ints':[1,2,3,4,5,6],'matrix':[],'tags':[]}", "{'ints':[1,2.5],'matrix':[],'tags':[]}", "{'ints':[1,2],'matrix':[[1,2,3,4]],'tags':[]}", "{'ints':[1,2],'matrix':[],'tags':['x']}"]),
        ["any-of"] = new(
            "{'anyOf':[{'type':'string','maxLength':5},{'type':'integer'},{'type':'object','properties':{'kind':{'const':'box'},'size':{'type':'integer'}},'required':['kind','size'],'additionalProperties':false}]}",
            ["'hello'", "42", "{'kind':'box','size':3}"],
            ["'toolong'", "1.5", "{'kind':'bag','size':1}", "true", "{'kind':'box'}"]),
        ["one-of-discriminated"] = new(
            "{'oneOf':[{'type':'object','properties':{'op':{'const':'search'},'query':{'type':'string','maxLength':20}},'required':['op','query'],'additionalProperties':false},{'type':'object','properties':{'op':{'const':'open'},'id':{'type':'integer'}},'required':['op','id'],'additionalProperties':false}]}",
            ["{'op':'search','query':'shoes'}", "{'op':'open','id':7}"],
            ["{'op':'search','id':1}", "{'op':'open','query':'x'}", "{'op':'delete'}", "{'op':'open','id':7,'query':'x'}"]),
        ["defs-ref"] = new(
            "{'$defs':{'money':{'type':'object','properties':{'amount':{'type':'number'},'currency':{'enum':['EUR','USD']}},'required':['amount','currency'],'additionalProperties':false},'line':{'type':'object','properties':{'sku':{'type':'string','maxLength':8},'price':{'$ref':'#/$defs/money'}},'required':['sku','price'],'additionalProperties':false}},'type':'object','properties':{'lines':{'type':'array','items':{'$ref':'#/$defs/line'},'maxItems':4},'total':{'$ref':'#/$defs/money'}},'required':['lines','total'],'additionalProperties':false}",
            ["{'lines':[{'sku':'A1','price':{'amount':2,'currency':'EUR'}}],'total':{'amount':2,'currency':'EUR'}}"],
            ["{'lines':[],'total':{'amount':2,'currency':'GBP'}}", "{'lines':[]}", "{'lines':[{'sku':'TOO-LONG-SKU','price':{'amount':2,'currency':'EUR'}}],'total':{'amount':2,'currency':'EUR'}}", "{'lines':[{'sku':'A'}],'total':{'amount':2,'currency':'EUR'}}"]),
        ["definitions-allof"] = new(
            "{'type':'object','properties':{'user':{'allOf':[{'$ref':'#/definitions/user'}]},'backup':{'$ref':'#/definitions/user'}},'required':['user'],'additionalProperties':false,'definitions':{'user':{'type':'object','properties':{'id':{'type':'integer'},'email':{'type':['string','null']}},'required':['id','email'],'additionalProperties':false}}}",
            ["{'user':{'id':1,'email':null}}", "{'user':{'id':1,'email':'a@b'},'backup':{'id':2,'email':null}}"],
            ["{'user':{'id':1}}", "{'backup':{'id':2,'email':null}}", "{'user':{'id':'1','email':null}}", "{'user':{'id':1,'email':null,'name':'x'}}"]),
        ["nested-nullable"] = new(
            "{'type':'object','properties':{'profile':{'type':['object','null'],'properties':{'address':{'type':'object','properties':{'city':{'type':'string'},'zip':{'type':['integer','null']}},'required':['city'],'additionalProperties':false}},'required':['address'],'additionalProperties':false}},'required':['profile'],'additionalProperties':false}",
            ["{'profile':null}", "{'profile':{'address':{'city':'Oslo'}}}", "{'profile':{'address':{'city':'Oslo','zip':null}}}"],
            ["{'profile':{'address':{'zip':1}}}", "{'profile':{}}", "{'profile':'none'}", "{}", "{'profile':{'address':{'city':'Oslo','zip':1.5}}}"]),
        ["map"] = new(
            "{'type':'object','additionalProperties':{'type':'integer'}}",
            ["{}", "{'a':1,'b':-2}"],
            ["{'a':'x'}", "{'a':1.5}", "[]", "{'a':null}"]),
        ["any-payload"] = new(
            "{'type':'object','properties':{'id':{'type':'string'},'payload':{}},'required':['id','payload'],'additionalProperties':false}",
            ["{'id':'a','payload':null}", "{'id':'a','payload':{'x':[1,{'y':'z'}],'w':true}}"],
            ["{'id':'a'}", "{'id':'a','payload':1,'extra':2}", "{'id':3,'payload':1}"]),
        ["recommendation"] = new(
            "{'type':'object','properties':{'items':{'type':'array','minItems':1,'maxItems':3,'items':{'type':'object','properties':{'itemId':{'type':'string','maxLength':12},'reason':{'type':'string','maxLength':60},'score':{'type':'number'}},'required':['itemId','reason'],'additionalProperties':false}},'summary':{'type':['string','null'],'maxLength':80}},'required':['items'],'additionalProperties':false}",
            ["{'items':[{'itemId':'sku-1','reason':'because'}]}", "{'items':[{'itemId':'a','reason':'b','score':0.5}],'summary':null}"],
            ["{'items':[]}", "{'items':[{'itemId':'a','reason':'b'},{'itemId':'a','reason':'b'},{'itemId':'a','reason':'b'},{'itemId':'a','reason':'b'}]}", "{'items':[{'itemId':'a'}]}", "{'items':[{'itemId':'a','reason':'b','rank':1}]}"]),
        ["primitive-union"] = new(
            "{'type':['integer','boolean','null']}",
            ["0", "-12", "true", "null"],
            ["'1'", "1.5", "[]", "{}"]),
        ["array-of-anything"] = new(
            "{'type':'array','items':true,'maxItems':3}",
            ["[]", "[1,'a',{'b':[null]}]"],
            ["[1,2,3,4]", "{}", "'x'"]),
        ["escaped-names"] = new(
            """{"type":"object","properties":{"we\"ird\\key":{"const":"tab\there"},"ключ":{"enum":["значение","😀"]}},"required":["we\"ird\\key","ключ"],"additionalProperties":false}""",
            ["""{"we\"ird\\key":"tab\there","ключ":"😀"}""", """{ "we\"ird\\key":"tab\there", "ключ":"значение" }"""],
            ["""{"we\"ird\\key":"tab here","ключ":"😀"}""", """{"we\"ird\\key":"tab\there","ключ":"key"}""", """{"ключ":"😀"}"""]),
    };
}
